/**
 * The deployment examples of config/ parse, and name only images, ports and paths the project
 * has: the images it builds (at the package version) or pinned upstream ones, files that exist,
 * the ports the configs listen on, the paths the configs read. There is no Docker engine nor
 * cluster in the test run: this is as close as it gets to `docker compose up` and `kubectl apply`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli.js';
import { parseDockerfile, readDockerfile } from '../helpers/dockerfile.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const yamlOf = <T>(path: string) => parse(read(path)) as T;
const stages = parseDockerfile(readDockerfile(ROOT)).stages;
const runtime = stages[stages.length - 1];

/** The files a stage copies from the build context. */
const copied = (stage: (typeof stages)[number]) => stage.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
const tails = (config: Config, path: string) => config.logs.include.some((glob) => picomatch(glob)(path));
const port = (endpoint: { port: number }) => endpoint.port;

interface Service {
  image: string;
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}

describe('the Docker Compose example', () => {
  const file = 'config/compose/docker-compose.yaml';
  const dir = dirname(join(ROOT, file));
  const compose = yamlOf<{ services: Record<string, Service>; volumes: Record<string, unknown> }>(file);
  const { app, tracetail, prometheus, grafana } = compose.services;
  const collector = compose.services['otel-collector'];
  const container = loadConfig({ file: join(ROOT, 'config/container.yaml'), env: {} });
  /** The volume of `service` mounted at `target`: its source (a path from the repository root, or a named volume). */
  const mountAt = (service: Service, target: string) => {
    const volume = service.volumes?.map((v) => v.split(':')).find(([, t]) => t === target);
    if (!volume) return undefined;
    return volume[0].startsWith('.') ? resolve(dir, volume[0]) : volume[0];
  };

  it('has the app, tracetail, an OpenTelemetry Collector, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'grafana', 'otel-collector', 'prometheus', 'tracetail']);
  });

  it('names only images built from this repository at the package version, or upstream images pinned to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) {
        expect(resolve(dir, s.build.context), name).toBe(ROOT);
        if (s.build.target) expect(stages.map((st) => st.name), name).toContain(s.build.target);
        expect(s.image, name).toBe(s.build.target ? `tracetail-${s.build.target}:${VERSION}` : `tracetail:${VERSION}`);
      } else {
        expect(s.image, name).toMatch(/^(otel\/opentelemetry-collector|prom\/prometheus|grafana\/grafana):v?\d+\.\d+\.\d+$/);
      }
    }
  });

  it('mounts only files the repository has and volumes it declares', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (source.startsWith('.')) expect(existsSync(resolve(dir, source)), `${name}: ${v}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(source);
      }
    }
  });

  it('runs tracetail on config/container.yaml, which the image holds, with receivers the app can reach and only /metrics published', () => {
    expect(tracetail.command).toEqual(['node', 'dist/cli.js', 'run', '--config', 'config/container.yaml']);
    expect(copied(runtime)).toContain('config/container.yaml');
    const http = container.receivers.otlp.http!.endpoint!;
    expect(http.host).toBe('0.0.0.0');
    expect(container.receivers.otlp.grpc!.endpoint).toMatchObject({ host: '0.0.0.0', port: 4317 });
    expect(app.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://tracetail:${port(http)}`);
    expect(tracetail.ports).toEqual([`${port(container.metrics.endpoint)}:${port(container.metrics.endpoint)}`]);
    expect(tracetail.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port(container.metrics.endpoint)}/readyz`);
    expect(container.debug.endpoint?.host).toBe('127.0.0.1');
  });

  it('has the app write its logs where tracetail tails them', () => {
    const logFile = app.environment!.DEMO_LOG_FILE;
    expect(tails(container, logFile)).toBe(true);
    const logDir = dirname(logFile);
    expect(mountAt(app, logDir)).toBe('app-logs');
    expect(tracetail.volumes).toContain(`app-logs:${logDir}:ro`);
    expect(mountAt(tracetail, container.storage.directory)).toBe('tracetail-state');
    // The app is the demo app of the Dockerfile's demo stage.
    const demo = stages.find((s) => s.name === app.build?.target)!;
    expect(copied(demo)).toContain('config/demo');
  });

  it('has tracetail export to the collector, on the port the collector listens on', () => {
    const config = collector.command!.find((a) => a.startsWith('--config='))!.slice('--config='.length);
    expect(mountAt(collector, config)).toBe(join(dir, 'otel-collector.yaml'));
    const otelcol = yamlOf<{ receivers: { otlp: { protocols: { http: { endpoint: string } } } }; service: { pipelines: Record<string, { receivers: string[] }> } }>('config/compose/otel-collector.yaml');
    const port = otelcol.receivers.otlp.protocols.http.endpoint.split(':').at(-1);
    expect(tracetail.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://otel-collector:${port}`);
    expect(Object.keys(otelcol.service.pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const p of Object.values(otelcol.service.pipelines)) expect(p.receivers).toEqual(['otlp']);
  });

  it('has Prometheus scrape tracetail with exemplar storage on and its rules loaded', () => {
    expect(prometheus.command).toContain('--enable-feature=exemplar-storage');
    const configFile = prometheus.command!.find((a) => a.startsWith('--config.file='))!.slice('--config.file='.length);
    expect(mountAt(prometheus, configFile)).toBe(join(dir, 'prometheus.yml'));
    const prom = yamlOf<{ rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }>('config/compose/prometheus.yml');
    expect(prom.scrape_configs).toEqual([{ job_name: 'tracetail', static_configs: [{ targets: [`tracetail:${port(container.metrics.endpoint)}`] }] }]);
    expect(prom.rule_files).toEqual(['/etc/prometheus/rules/*.yaml']);
    expect(mountAt(prometheus, '/etc/prometheus/rules')).toBe(join(ROOT, 'dashboards/prometheus'));
  });

  it('has Grafana load the shipped provisioning, the dashboards where the provider looks, and reach Prometheus', () => {
    expect(mountAt(grafana, '/etc/grafana/provisioning/datasources')).toBe(join(ROOT, 'dashboards/provisioning/datasources'));
    expect(mountAt(grafana, '/etc/grafana/provisioning/dashboards')).toBe(join(ROOT, 'dashboards/provisioning/dashboards'));
    const provider = yamlOf<{ providers: { options: { path: string } }[] }>('dashboards/provisioning/dashboards/tracetail.yaml');
    expect(mountAt(grafana, provider.providers[0].options.path)).toBe(join(ROOT, 'dashboards'));
    const { datasources } = yamlOf<{ datasources: { type: string; url: string }[] }>('dashboards/provisioning/datasources/tracetail.yaml');
    expect(datasources.find((d) => d.type === 'prometheus')?.url).toBe('http://prometheus:9090');
  });
});

describe('the Kubernetes example', () => {
  // The manifests as plain data.
  const docs = parseAllDocuments(read('config/kubernetes/tracetail-sidecar.yaml')).map((d) => d.toJS() as Record<string, any>);
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  const deployment = docs.find((d) => d.kind === 'Deployment')!;
  const pod = deployment.spec.template;
  const sidecar = pod.spec.initContainers.find((c: { name: string }) => c.name === 'tracetail');
  const app = pod.spec.containers.find((c: { name: string }) => c.name === 'app');
  const env = (c: { env: { name: string; value?: string }[] }, name: string) => c.env.find((e) => e.name === name)?.value;
  const config = loadConfig({ text: configMap.data['tracetail.yaml'], env: { OTEL_SERVICE_NAME: env(sidecar, 'OTEL_SERVICE_NAME') } });

  it('runs the image the README builds, as a native sidecar', () => {
    expect(read('README.md')).toContain(`docker build -t tracetail:${VERSION} .`);
    expect(sidecar.image).toBe(`tracetail:${VERSION}`);
    expect(sidecar.restartPolicy).toBe('Always');
  });

  it('gives tracetail a valid config, on loopback but /metrics, and ports and probes that match it', () => {
    expect(config.receivers.otlp.http!.endpoint!.host).toBe('127.0.0.1');
    expect(config.receivers.otlp.grpc!.endpoint).toMatchObject({ host: '127.0.0.1' });
    expect(config.debug.endpoint?.host).toBe('127.0.0.1');
    expect(sidecar.ports).toEqual([{ name: 'metrics', containerPort: port(config.metrics.endpoint), protocol: 'TCP' }]);
    expect(sidecar.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(sidecar.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(pod.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port(config.metrics.endpoint)), 'prometheus.io/path': '/metrics' });
  });

  it('mounts only volumes the pod declares: the config where --config reads it, the app\'s logs where tracetail tails them', () => {
    const volumes = new Map(pod.spec.volumes.map((v: { name: string }) => [v.name, v]));
    for (const c of [sidecar, app]) for (const m of c.volumeMounts) expect(volumes.has(m.name), `${c.name}: ${m.name}`).toBe(true);
    const configPath = sidecar.args[sidecar.args.indexOf('--config') + 1];
    const configMount = sidecar.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dirname(configPath));
    expect((volumes.get(configMount.name) as { configMap: { name: string } }).configMap.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toContain(configPath.split('/').at(-1));
    const logFile = env(app, 'LOG_FILE')!;
    expect(tails(config, logFile)).toBe(true);
    const logMount = (c: { volumeMounts: { name: string; mountPath: string }[] }) => c.volumeMounts.find((m) => logFile.startsWith(`${m.mountPath}/`))?.name;
    expect(logMount(app)).toBe('app-logs');
    expect(logMount(sidecar)).toBe('app-logs');
    expect(env(app, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(`http://127.0.0.1:${port(config.receivers.otlp.http!.endpoint!)}`);
    expect(sidecar.volumeMounts.find((m: { mountPath: string }) => m.mountPath === config.storage.directory)?.name).toBe('tracetail-state');
  });

  it('is found by the Kubernetes scrape job: the container named tracetail, its port named metrics', () => {
    const job = yamlOf<{ scrape_configs: { job_name: string; relabel_configs: { source_labels: string[]; regex: string }[] }[] }>('config/prometheus/scrape-kubernetes.yaml').scrape_configs[0];
    expect(job.job_name).toBe('tracetail');
    const keep = job.relabel_configs.find((r) => r.source_labels.includes('__meta_kubernetes_pod_container_port_name'))!;
    expect(keep.regex).toBe(`${sidecar.name};${sidecar.ports[0].name}`);
  });
});
