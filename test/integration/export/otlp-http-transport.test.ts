/** OtlpHttpTransport against the test collector: encodings, headers, TLS, and how each answer is classified. */
import Long from 'long';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { ExportTarget } from '../../../src/config/otel-env.js';
import { EnvironmentError } from '../../../src/errors.js';
import { buildTransports } from '../../../src/exporters/index.js';
import { OtlpHttpTransport } from '../../../src/exporters/otlp-http-transport.js';
import type { Transport } from '../../../src/exporters/transport.js';
import { decodeRequest, encodeRequest } from '../../../src/otlp/codec.js';
import { keyValue } from '../../../src/otlp/values.js';
import { tempDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';
import { TestCollector } from '../../helpers/collector.js';
import { traceBatch } from '../../helpers/export-harness.js';
import { makePki, type TestPki } from '../../helpers/tls.js';

let collector: TestCollector | undefined;
let transport: Transport | undefined;

afterEach(async () => {
  await transport?.close();
  await collector?.close();
  transport = undefined;
  collector = undefined;
});

function target(url: string, extra: Partial<ExportTarget> = {}): ExportTarget {
  return {
    url,
    protocol: 'http/protobuf',
    headers: {},
    compression: 'gzip',
    compressionLevel: 1,
    timeoutMs: 2000,
    tls: { caFile: null, certFile: null, keyFile: null, insecureSkipVerify: false },
    ...extra,
  };
}

function open(t: ExportTarget): OtlpHttpTransport {
  const tr = new OtlpHttpTransport({ target: t, maxSockets: 2 });
  transport = tr;
  return tr;
}

const payload = () => encodeRequest('traces', { resourceSpans: traceBatch(0, 10).resourceSpans });

describe('OtlpHttpTransport encodings', () => {
  it('sends configured headers and its User-Agent, and reads them from OTEL_EXPORTER_OTLP_* too', async () => {
    collector = await TestCollector.start();
    const config = loadConfig({
      text: `storage: { directory: ${JSON.stringify(tempDir())} }\nexport: { otlp: { headers: { x-from-file: one } } }\n`,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=acme%20corp', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' },
    });
    const transports = buildTransports(config);
    transport = transports.traces;
    expect(transports.traces).toBeInstanceOf(OtlpHttpTransport);
    expect((transports.traces as OtlpHttpTransport).url.href).toBe(`${collector.url}/v1/traces`);
    expect(await transports.traces.send('traces', payload(), 10)).toEqual({ kind: 'success' });
    for (const t of new Set(Object.values(transports))) if (t !== transport) await t.close();
    const req = collector.requests[0];
    expect(req.headers['x-tenant']).toBe('acme corp');
    expect(req.headers['x-from-file']).toBe('one');
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(req.headers['user-agent']).toMatch(/^tracetail\//);
    expect(req.items).toBe(10);
  });

  it('http/json keeps every value type: int64 past 2^53, whole doubles, bytes, nested values', async () => {
    collector = await TestCollector.start();
    const batch = traceBatch(0, 1);
    batch.resourceSpans[0].scopeSpans[0].spans[0].attributes!.push(
      { key: 'big', value: { intValue: Long.fromString('9007199254740993') } },
      { key: 'whole', value: { doubleValue: 2 } },
      { key: 'raw', value: { bytesValue: Buffer.from([0, 1, 254, 255]) } },
      keyValue('nested', { list: [1, 'two', [true]], map: { k: 1.5 } }),
    );
    const original = encodeRequest('traces', { resourceSpans: batch.resourceSpans });
    const tr = open(target(`${collector.url}/v1/traces`, { protocol: 'http/json' }));
    expect(await tr.send('traces', original, 1)).toEqual({ kind: 'success' });
    const req = collector.requests[0];
    expect(req.format).toBe('json');
    expect(Buffer.from(encodeRequest('traces', req.body as never))).toEqual(Buffer.from(original));
  });
});

describe('OtlpHttpTransport payloads in parts', () => {
  it.each(['gzip', 'none'] as const)('sends the parts of a payload as one request (%s)', async (compression) => {
    collector = await TestCollector.start();
    const tr = open(target(`${collector.url}/v1/traces`, { compression }));
    const parts = [0, 10, 20].map((first) => encodeRequest('traces', { resourceSpans: traceBatch(first, 10).resourceSpans }));
    expect(await tr.send('traces', parts, 30)).toEqual({ kind: 'success' });
    const [req] = collector.requests;
    expect(req.headers['content-encoding']).toBe(compression === 'gzip' ? 'gzip' : undefined);
    expect(req.items).toBe(30);
    expect(Buffer.from(encodeRequest('traces', req.body as never))).toEqual(Buffer.from(encodeRequest('traces', decodeRequest('traces', Buffer.concat(parts), 'protobuf'))));
  });
});

describe('OtlpHttpTransport classifies answers as the OTLP specification says', () => {
  it('503 and 429 are retryable and carry Retry-After (seconds or HTTP-date)', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'status', status: 503, retryAfter: '7' }, { times: 1 });
    collector.fail({ kind: 'status', status: 429, retryAfter: new Date(Date.now() + 60_000).toUTCString() }, { times: 1 });
    collector.fail({ kind: 'status', status: 502 }, { times: 1 });
    collector.fail({ kind: 'status', status: 504 }, { times: 1 });
    const tr = open(target(`${collector.url}/v1/traces`));
    expect(await tr.send('traces', payload(), 10)).toMatchObject({ kind: 'retryable', retryAfterMs: 7000 });
    const dated = await tr.send('traces', payload(), 10);
    expect(dated.kind).toBe('retryable');
    expect(dated.kind === 'retryable' && dated.retryAfterMs).toBeGreaterThan(55_000);
    expect(await tr.send('traces', payload(), 10)).toMatchObject({ kind: 'retryable', retryAfterMs: undefined });
    expect(await tr.send('traces', payload(), 10)).toMatchObject({ kind: 'retryable' });
  });

  it('other 4xx/5xx are permanent, with the message of the backend (protobuf or JSON Status)', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'status', status: 400, message: 'span 3 has no name' }, { times: 1 });
    collector.fail({ kind: 'status', status: 500, message: 'disk on fire' }, { times: 1 });
    collector.fail({ kind: 'status', status: 401, message: 'bad token' }, { times: 1 });
    const tr = open(target(`${collector.url}/v1/traces`));
    expect(await tr.send('traces', payload(), 10)).toEqual({ kind: 'permanent', reason: 'HTTP 400: span 3 has no name' });
    expect(await tr.send('traces', payload(), 10)).toEqual({ kind: 'permanent', reason: 'HTTP 500: disk on fire' });
    expect(await tr.send('traces', payload(), 10)).toEqual({ kind: 'permanent', reason: 'HTTP 401: bad token' });
    const json = open(target(`${collector.url}/v1/nowhere`, { protocol: 'http/json' }));
    expect(await json.send('traces', payload(), 10)).toEqual({ kind: 'permanent', reason: 'HTTP 404: no route for POST /v1/nowhere' });
    await tr.close();
  });

  it('partial success is a success with the rejected count', async () => {
    collector = await TestCollector.start();
    collector.fail({ kind: 'partial', rejected: 3, message: 'three too old' }, { times: 1 });
    const tr = open(target(`${collector.url}/v1/traces`));
    expect(await tr.send('traces', payload(), 10)).toEqual({ kind: 'success', partial: { rejected: 3, errorMessage: 'three too old' } });
  });

  it('connection refused, reset, a hang past the timeout and an abort are retryable', async () => {
    collector = await TestCollector.start({ down: true });
    const tr = open(target(`${collector.url}/v1/traces`, { timeoutMs: 300 }));
    expect(await tr.send('traces', payload(), 10)).toMatchObject({ kind: 'retryable', reason: expect.stringContaining('ECONNREFUSED') });
    await collector.up();
    collector.fail({ kind: 'reset' }, { times: 1 });
    expect(await tr.send('traces', payload(), 10)).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/ECONNRESET|socket hang up/) });
    collector.fail({ kind: 'hang' }, { times: 2 });
    expect(await tr.send('traces', payload(), 10)).toEqual({ kind: 'retryable', reason: 'no response within 300 ms' });
    const abort = new AbortController();
    const pending = tr.send('traces', payload(), 10, { abort: abort.signal });
    // Aborted while the backend holds the request (not before it was sent).
    await waitFor(() => collector!.requests.length === 3, { what: 'the request to reach the backend' });
    abort.abort();
    expect(await pending).toEqual({ kind: 'retryable', reason: 'aborted: the sidecar is stopping' });
    expect(collector.requests.map((r) => r.outcome)).toEqual(['reset', 'hang', 'hang']);
  });
});

describe('OtlpHttpTransport over TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki(tempDir('tracetail-pki-'));
  });

  const tls = (extra: Partial<ExportTarget['tls']>): ExportTarget['tls'] => ({ caFile: null, certFile: null, keyFile: null, insecureSkipVerify: false, ...extra });

  it('trusts a backend signed by the configured CA, and refuses (retryably) one it cannot verify', async () => {
    collector = await TestCollector.start({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    const trusted = open(target(`${collector.url}/v1/traces`, { tls: tls({ caFile: pki.caFile }) }));
    expect(await trusted.send('traces', payload(), 10)).toEqual({ kind: 'success' });
    await trusted.close();
    const untrusted = open(target(`${collector.url}/v1/traces`));
    const refused = await untrusted.send('traces', payload(), 10);
    expect(refused).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/certificate/i) });
    await untrusted.close();
    const skipping = open(target(`${collector.url}/v1/traces`, { tls: tls({ insecureSkipVerify: true }) }));
    expect(await skipping.send('traces', payload(), 10)).toEqual({ kind: 'success' });
    expect(collector.items('traces')).toBe(20);
  });

  it('presents a client certificate for mutual TLS', async () => {
    collector = await TestCollector.start({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true } });
    const anonymous = open(target(`${collector.url}/v1/traces`, { tls: tls({ caFile: pki.caFile }) }));
    expect((await anonymous.send('traces', payload(), 10)).kind).toBe('retryable');
    await anonymous.close();
    const mutual = open(target(`${collector.url}/v1/traces`, { tls: tls({ caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile }) }));
    expect(await mutual.send('traces', payload(), 10)).toEqual({ kind: 'success' });
    expect(collector.accepted('traces').map((r) => r.clientCertificate)).toEqual(['tracetail-client']);
  });

  it('names the key when a TLS file cannot be read', () => {
    expect(() => new OtlpHttpTransport({ target: target('https://127.0.0.1:1/v1/traces', { tls: tls({ caFile: '/nonexistent/ca.pem' }) }), maxSockets: 1 })).toThrow(
      EnvironmentError,
    );
    expect(() => new OtlpHttpTransport({ target: target('https://127.0.0.1:1/v1/traces', { tls: tls({ caFile: '/nonexistent/ca.pem' }) }), maxSockets: 1 })).toThrow(
      /export\.otlp\.tls\.ca_file/,
    );
  });
});
