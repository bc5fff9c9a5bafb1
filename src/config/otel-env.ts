/**
 * The standard OpenTelemetry environment variables (the README's Configuration), read here and nowhere else.
 * Precedence follows the OTel specification: a signal-specific variable beats the generic one,
 * and the variables beat the file; OTEL_SERVICE_NAME beats `service.name` inside
 * OTEL_RESOURCE_ATTRIBUTES, which beats the file.
 */
import { isHttpUrl, type FileConfig } from './schema.js';

import { SIGNALS, type Signal } from '../otlp/signals.js';

export type AttributeValue = string | number | boolean;

export interface ExportTarget {
  /** Full URL, `/v1/<signal>` already appended where the spec says so. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  /** gzip level (1-9). */
  compressionLevel: number;
  timeoutMs: number;
  tls: { caFile: string | null; certFile: string | null; keyFile: string | null; insecureSkipVerify: boolean };
}

export interface EnvProblem {
  path: string;
  message: string;
}

type Env = Record<string, string | undefined>;

function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `k1=v1,k2=v2` with percent-encoded values (W3C baggage-like), as OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES use. */
export function parseKeyValueList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // keep the raw text when it is not valid percent-encoding
    }
    if (key) out[key] = value;
  }
  return out;
}

/**
 * Kubernetes resource attributes from the downward-API variables the example manifest sets
 * (config/kubernetes/tracetail-sidecar.yaml). `k8s.container.name` names the app's container,
 * whose logs tracetail reads; the downward API cannot give it, so the manifest writes it.
 */
export const KUBERNETES_ENV: Readonly<Record<string, string>> = {
  K8S_POD_NAME: 'k8s.pod.name',
  K8S_POD_UID: 'k8s.pod.uid',
  K8S_NAMESPACE_NAME: 'k8s.namespace.name',
  K8S_NODE_NAME: 'k8s.node.name',
  K8S_CONTAINER_NAME: 'k8s.container.name',
};

/**
 * `service.name` and the resource attributes added to records that carry none. Kubernetes
 * attributes from the environment come first, so that the file and OTEL_RESOURCE_ATTRIBUTES can
 * override them.
 */
export function resolveResource(file: FileConfig, env: Env): Record<string, AttributeValue> {
  const resource: Record<string, AttributeValue> = {};
  for (const [name, key] of Object.entries(KUBERNETES_ENV)) {
    const v = envValue(env, name);
    if (v !== undefined) resource[key] = v;
  }
  Object.assign(resource, file.service.resource_attributes);
  if (file.service.name) resource['service.name'] = file.service.name;
  const fromEnv = envValue(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (fromEnv) Object.assign(resource, parseKeyValueList(fromEnv));
  const serviceName = envValue(env, 'OTEL_SERVICE_NAME');
  if (serviceName) resource['service.name'] = serviceName;
  if (resource['service.name'] === undefined) resource['service.name'] = 'unknown_service';
  return resource;
}

function signalUrl(base: string, signal: Signal): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

export function resolveExportTargets(
  file: FileConfig,
  env: Env,
  problems: EnvProblem[],
): Record<Signal, ExportTarget | null> {
  const otlp = file.export.otlp;
  const out = {} as Record<Signal, ExportTarget | null>;
  for (const signal of SIGNALS) {
    const S = signal.toUpperCase();
    const pick = (name: string) => envValue(env, `OTEL_EXPORTER_OTLP_${S}_${name}`) ?? envValue(env, `OTEL_EXPORTER_OTLP_${name}`);
    const pickVar = (name: string) =>
      envValue(env, `OTEL_EXPORTER_OTLP_${S}_${name}`) !== undefined ? `OTEL_EXPORTER_OTLP_${S}_${name}` : `OTEL_EXPORTER_OTLP_${name}`;

    const signalVar = `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`;
    const baseVar = 'OTEL_EXPORTER_OTLP_ENDPOINT';
    const fromEnv = envValue(env, signalVar) !== undefined ? signalVar : envValue(env, baseVar) !== undefined ? baseVar : undefined;
    const fileSignalUrl = otlp[`${signal}_endpoint` as const];
    let url: string | undefined;
    if (fromEnv === signalVar) url = envValue(env, signalVar);
    else if (fromEnv === baseVar) url = signalUrl(envValue(env, baseVar)!, signal);
    else url = fileSignalUrl ?? (otlp.endpoint ? signalUrl(otlp.endpoint, signal) : undefined);
    if (!url) {
      out[signal] = null;
      continue;
    }
    if (fromEnv && !isHttpUrl(url)) {
      problems.push({ path: fromEnv, message: `expected an http:// or https:// URL, got ${JSON.stringify(envValue(env, fromEnv))}` });
    }

    let protocol = otlp.protocol;
    const envProtocol = pick('PROTOCOL');
    if (envProtocol !== undefined) {
      if (envProtocol === 'http/protobuf' || envProtocol === 'http/json') protocol = envProtocol;
      else
        problems.push({
          path: pickVar('PROTOCOL'),
          message: `expected "http/protobuf" or "http/json", got ${JSON.stringify(envProtocol)} (tracetail exports over OTLP/HTTP)`,
        });
    }

    let compression = otlp.compression;
    const envCompression = pick('COMPRESSION');
    if (envCompression !== undefined) {
      if (envCompression === 'gzip' || envCompression === 'none') compression = envCompression;
      else problems.push({ path: pickVar('COMPRESSION'), message: `expected "gzip" or "none", got ${JSON.stringify(envCompression)}` });
    }

    let timeoutMs = otlp.timeout;
    const envTimeout = pick('TIMEOUT');
    if (envTimeout !== undefined) {
      const n = Number(envTimeout);
      if (Number.isFinite(n) && n > 0) timeoutMs = n;
      else problems.push({ path: pickVar('TIMEOUT'), message: `expected milliseconds, got ${JSON.stringify(envTimeout)}` });
    }

    const headers = { ...otlp.headers };
    const genericHeaders = envValue(env, 'OTEL_EXPORTER_OTLP_HEADERS');
    const signalHeaders = envValue(env, `OTEL_EXPORTER_OTLP_${S}_HEADERS`);
    if (genericHeaders) Object.assign(headers, parseKeyValueList(genericHeaders));
    if (signalHeaders) Object.assign(headers, parseKeyValueList(signalHeaders));

    out[signal] = {
      url,
      protocol,
      headers,
      compression,
      compressionLevel: otlp.compression_level,
      timeoutMs,
      tls: {
        caFile: pick('CERTIFICATE') ?? otlp.tls.ca_file,
        certFile: pick('CLIENT_CERTIFICATE') ?? otlp.tls.cert_file,
        keyFile: pick('CLIENT_KEY') ?? otlp.tls.key_file,
        insecureSkipVerify: otlp.tls.insecure_skip_verify,
      },
    };
  }
  return out;
}
