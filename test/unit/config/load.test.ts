import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ text, env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty file', () => {
    const c = loadConfig({ text: '', env: {} });
    expect(c.logs.start_at).toBe('beginning');
    expect(c.logs.partial_line_timeout).toBe(5000);
    expect(c.receivers.otlp.http?.endpoint).toEqual({ host: '127.0.0.1', port: 4318 });
    expect(c.metrics.endpoint).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(c.storage.max_queue_bytes).toBe(268435456);
    expect(c.shutdown_timeout).toBe(20_000);
    expect(c.resource['service.name']).toBe('unknown_service');
    expect(c.exportTargets.traces).toBeNull();
    expect(Object.isFrozen(c.logs)).toBe(true);
  });

  it('names the key and the reason for a bad enum', () => {
    expect(problems('logs:\n  start_at: middle\n')).toEqual(['logs.start_at: expected "beginning" or "end", got "middle"']);
  });

  it('suggests the closest key for a typo', () => {
    expect(problems('logs:\n  strat_at: end\n')).toEqual(['logs.strat_at: unknown key; did you mean "start_at"?']);
  });

  it('reports every problem at once', () => {
    expect(problems('logs:\n  start_at: middle\nshutdown_timeout: soon\n')).toHaveLength(2);
  });
});

describe('environment expansion', () => {
  it('expands ${VAR} and ${VAR:-default}, types unquoted whole references, keeps quoted ones strings', () => {
    const c = loadConfig({
      text: 'limits:\n  memory_mib: ${MEM}\nservice:\n  name: "${SVC:-fallback}"\n  resource_attributes:\n    port: "${MEM}"\n    price: $$5\n',
      env: { MEM: '300' },
    });
    expect(c.limits.memory_mib).toBe(300);
    expect(c.service.name).toBe('fallback');
    expect(c.service.resource_attributes).toEqual({ port: '300', price: '$5' });
  });

  it('names the key of a missing variable', () => {
    expect(problems('export:\n  otlp:\n    headers:\n      authorization: Bearer ${TOKEN}\n')).toEqual([
      'export.otlp.headers.authorization: environment variable TOKEN is not set (write ${TOKEN:-default} to give a default)',
    ]);
  });
});

describe('OpenTelemetry environment variables', () => {
  const file = 'service:\n  name: from-file\n  resource_attributes: { team: a, tier: web }\nexport:\n  otlp:\n    endpoint: http://file:4318\n';

  it('OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES, which beats the file', () => {
    expect(loadConfig({ text: file, env: {} }).resource).toEqual({ 'service.name': 'from-file', team: 'a', tier: 'web' });
    expect(loadConfig({ text: file, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=attrs,team=b,note=a%20b' } }).resource).toEqual({
      'service.name': 'attrs',
      team: 'b',
      tier: 'web',
      note: 'a b',
    });
    expect(loadConfig({ text: file, env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=attrs', OTEL_SERVICE_NAME: 'svc' } }).resource['service.name']).toBe('svc');
  });

  it('appends /v1/<signal> to the base endpoint and uses signal endpoints as given', () => {
    const c = loadConfig({
      text: file,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318/', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:9999/custom' },
    });
    expect(c.exportTargets.traces?.url).toBe('http://env:4318/v1/traces');
    expect(c.exportTargets.metrics?.url).toBe('http://env:4318/v1/metrics');
    expect(c.exportTargets.logs?.url).toBe('http://logs:9999/custom');
    expect(loadConfig({ text: file, env: {} }).exportTargets.traces?.url).toBe('http://file:4318/v1/traces');
  });

  it('reads headers, protocol, compression, timeout and certificates, signal-specific first', () => {
    const c = loadConfig({
      text: `${file}    headers: { x-file: f }\n`,
      env: {
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=k%3D1,x-file=env',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-traces=t',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/ca.pem',
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: '/etc/key.pem',
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: '/etc/cert.pem',
      },
    });
    expect(c.exportTargets.traces).toMatchObject({
      protocol: 'http/protobuf',
      compression: 'none',
      timeoutMs: 2500,
      headers: { 'x-file': 'env', 'api-key': 'k=1', 'x-traces': 't' },
      tls: { caFile: '/etc/ca.pem', certFile: null, keyFile: null },
    });
    expect(c.exportTargets.logs).toMatchObject({ protocol: 'http/json', headers: { 'x-file': 'env', 'api-key': 'k=1' } });
    expect(c.exportTargets.logs?.tls).toMatchObject({ certFile: '/etc/cert.pem', keyFile: '/etc/key.pem' });
  });

  it('names the variable when its value is invalid', () => {
    expect(problems('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL: expected "http/protobuf" or "http/json", got "grpc" (tracetail exports over OTLP/HTTP)',
    ]);
    expect(problems('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 'soon' })).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: expected milliseconds, got "soon"',
    ]);
  });

  it('TRACETAIL_LOG_LEVEL overrides log_level', () => {
    expect(loadConfig({ text: 'log_level: warn\n', env: { TRACETAIL_LOG_LEVEL: 'debug' } }).log_level).toBe('debug');
  });
});

describe('logs.sampling and metrics.service_graph keys', () => {
  it('default to sampling off and the service graph on, with the documented values', () => {
    const c = loadConfig({ text: '', env: {} });
    expect(c.logs.sampling).toEqual({ enabled: false, ratio: 0.1, slow_threshold: 1000, decision_wait: 10_000, max_held_bytes: 32 * 1024 * 1024 });
    expect(c.metrics.service_graph).toMatchObject({ enabled: true, wait: 10_000, max_items: 10_000, peer_attributes: ['peer.service', 'db.name', 'db.system', 'server.address'] });
    expect(c.metrics.service_graph.histogram_buckets).toHaveLength(16);
  });

  it('names the key of a bad value', () => {
    expect(problems('logs:\n  sampling:\n    ratio: 1.5\n')).toEqual([expect.stringMatching(/^logs\.sampling\.ratio: /)]);
    expect(problems('logs:\n  sampling:\n    decision_wait: soon\n')).toEqual([expect.stringMatching(/^logs\.sampling\.decision_wait: expected a duration/)]);
    expect(problems('logs:\n  sampling:\n    max_held: 1\n')).toEqual([expect.stringMatching(/^logs\.sampling\.max_held: unknown key .*max_held_bytes/)]);
    expect(problems('metrics:\n  service_graph:\n    max_items: 0\n')).toEqual([expect.stringMatching(/^metrics\.service_graph\.max_items: /)]);
    expect(problems('metrics:\n  service_graph:\n    peer_attributes: []\n')).toEqual([expect.stringMatching(/^metrics\.service_graph\.peer_attributes: /)]);
  });
});
