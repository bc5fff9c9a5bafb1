/**
 * The example Kubernetes manifest: tracetail as a native sidecar with the restricted security
 * context, the shared log volume, probes, scrape annotations, downward-API attributes, and an
 * embedded config that tracetail accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { KUBERNETES_ENV } from '../../../src/config/otel-env.js';
import { ROOT } from '../../helpers/cli.js';

type Obj = Record<string, any>;

const FILE = join(ROOT, 'config/kubernetes/tracetail-sidecar.yaml');
const docs = parseAllDocuments(readFileSync(FILE, 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Obj;
});
const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
const deployment = docs.find((d) => d.kind === 'Deployment')!;
const pod = deployment?.spec.template.spec as Obj;
const sidecar = (pod?.initContainers as Obj[])?.find((c) => c.name === 'tracetail') as Obj;
const app = (pod?.containers as Obj[])?.find((c) => c.name === 'app') as Obj;

function envOf(container: Obj): Record<string, Obj> {
  return Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e]));
}

/** The embedded config as tracetail loads it in the pod, with the pod's environment. */
function embeddedConfig() {
  const configPath = sidecar.args[sidecar.args.indexOf('--config') + 1] as string;
  const mount = (sidecar.volumeMounts as Obj[]).find((m) => configPath.startsWith(`${m.mountPath}/`))!;
  const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)!;
  expect(volume.configMap.name).toBe(configMap.metadata.name);
  const text = configMap.data[configPath.slice(mount.mountPath.length + 1)] as string;
  const env: Record<string, string> = { K8S_POD_NAME: 'checkout-6d5f-abcde', K8S_POD_UID: '9a1b', K8S_NAMESPACE_NAME: 'shop', K8S_NODE_NAME: 'node-1', K8S_CONTAINER_NAME: 'app' };
  for (const [name, e] of Object.entries(envOf(sidecar))) if (typeof e.value === 'string') env[name] = e.value;
  return loadConfig({ text, env });
}

describe('config/kubernetes/tracetail-sidecar.yaml', () => {
  it('holds a ConfigMap and a Deployment', () => {
    expect(configMap?.apiVersion).toBe('v1');
    expect(deployment?.apiVersion).toBe('apps/v1');
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  });

  it('runs tracetail as a native sidecar: an init container with restartPolicy Always', () => {
    expect(sidecar).toBeDefined();
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args.slice(0, 3)).toEqual(['node', 'dist/cli.js', 'run']);
  });

  it('embeds a config that tracetail accepts, with the Kubernetes attributes in the resource', () => {
    const config = embeddedConfig();
    expect(config.logs.include).toEqual(['/var/log/app/**/*.log']);
    expect(config.resource).toMatchObject({
      'service.name': 'checkout',
      'k8s.pod.name': 'checkout-6d5f-abcde',
      'k8s.pod.uid': '9a1b',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-1',
      'k8s.container.name': 'app',
    });
  });

  it('sets every downward-API variable tracetail reads, from the right fields', () => {
    const env = envOf(sidecar);
    expect(Object.keys(KUBERNETES_ENV).filter((name) => !env[name])).toEqual([]);
    expect(env.K8S_POD_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env.K8S_POD_UID.valueFrom.fieldRef.fieldPath).toBe('metadata.uid');
    expect(env.K8S_NAMESPACE_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(env.K8S_NODE_NAME.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(env.K8S_CONTAINER_NAME.value).toBe(app.name);
  });

  it('shares the log directory through an emptyDir, read-only for tracetail', () => {
    const config = embeddedConfig();
    const logMount = (sidecar.volumeMounts as Obj[]).find((m) => config.logs.include[0].startsWith(`${m.mountPath}/`))!;
    expect(logMount.readOnly).toBe(true);
    expect((pod.volumes as Obj[]).find((v) => v.name === logMount.name)!.emptyDir).toBeDefined();
    const appMount = (app.volumeMounts as Obj[]).find((m) => m.name === logMount.name)!;
    expect(appMount.mountPath).toBe(logMount.mountPath);
    expect(envOf(app).LOG_FILE.value.startsWith(`${appMount.mountPath}/`)).toBe(true);
  });

  it('points the app at the receiver tracetail listens on', () => {
    const config = embeddedConfig();
    const http = config.receivers.otlp.http!.endpoint!;
    expect(envOf(app).OTEL_EXPORTER_OTLP_ENDPOINT.value).toBe(`http://${http.host}:${http.port}`);
    const socketDir = config.receivers.otlp.unix!.path!.replace(/\/[^/]+$/, '');
    expect((app.volumeMounts as Obj[]).some((m) => m.mountPath === socketDir)).toBe(true);
  });

  it('probes /healthz and /readyz on the metrics port, which the scrape annotations name', () => {
    const port = embeddedConfig().metrics.endpoint.port;
    const named = (sidecar.ports as Obj[]).find((p) => p.containerPort === port)!;
    expect(named).toBeDefined();
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ]) {
      expect(sidecar[probe].httpGet.path).toBe(path);
      expect([named.name, port]).toContain(sidecar[probe].httpGet.port);
    }
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
  });

  it('runs both containers under the restricted Pod Security Standard', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [sidecar, app]) {
      expect(c.securityContext, c.name).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext.runAsUser ?? pod.securityContext.runAsUser).toBe(1000);
    }
  });

  it('gives tracetail a read-only root with writable volumes for its state, its socket and /tmp', () => {
    expect(sidecar.securityContext.readOnlyRootFilesystem).toBe(true);
    const config = embeddedConfig();
    const writable = (sidecar.volumeMounts as Obj[]).filter((m) => !m.readOnly).map((m) => m.mountPath);
    const socketDir = config.receivers.otlp.unix!.path!.replace(/\/[^/]+$/, '');
    expect(writable.sort()).toEqual([config.storage.directory, socketDir, '/tmp'].sort());
    for (const m of sidecar.volumeMounts as Obj[]) expect((pod.volumes as Obj[]).some((v) => v.name === m.name), m.name).toBe(true);
  });

  it('leaves the sidecar its shutdown_timeout after the app has stopped', () => {
    const config = embeddedConfig();
    // The sidecar is stopped after the app; give the app at least 10 s of the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(config.shutdown_timeout / 1000 + 10);
  });

  it('limits the sidecar memory above limits.memory_mib plus 20%', () => {
    const limit = sidecar.resources.limits.memory as string;
    expect(limit).toMatch(/^\d+Mi$/);
    expect(parseInt(limit, 10)).toBeGreaterThanOrEqual(embeddedConfig().limits.memory_mib * 1.2);
  });
});
