import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDebugFixture, type DebugFixture } from '../../helpers/debug-fixture.js';

interface TraceDoc {
  traceId: string;
  spanCount: number;
  error: boolean;
  errorLogs: number;
  logCounts: Record<string, number>;
  spans: { spanId: string; parentSpanId: string | null; name: string; kind: string; service: string; offsetMs: number; durationMs: number; status: { code: string; message: string }; attributes: Record<string, unknown>; events: { name: string }[] }[];
  logs: { body: string; spanId: string | null; severity: string; offsetMs: number; timeUnixNano: string }[];
  resources: { serviceName: string; attributes: Record<string, unknown> }[];
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  if (res.headers.get('content-type')?.startsWith('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

/** A raw request, for a Host header fetch() will not send. */
function rawGet(base: string, path: string, host: string): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('debug API without a token', () => {
  let f: DebugFixture;
  beforeAll(async () => {
    f = await startDebugFixture();
  });
  afterAll(() => f.stop());

  it('logs its listener line with the bound address', () => {
    expect(f.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(f.base).not.toMatch(/:0$/);
  });

  it('returns one trace, spans and logs time-ordered, and nothing of other traces', async () => {
    const { status, body } = await get(`${f.base}/api/v1/traces/${f.checkout.traceId}`);
    expect(status).toBe(200);
    const doc = body as TraceDoc;
    expect(doc.traceId).toBe(f.checkout.traceId);
    expect(doc.spans.map((s) => [s.name, s.spanId, s.kind])).toEqual([
      ['POST /orders', f.checkout.serverSpanId, 'SPAN_KIND_SERVER'],
      ['GET inventory', f.checkout.clientSpanId, 'SPAN_KIND_CLIENT'],
    ]);
    expect(doc.spans[1].parentSpanId).toBe(f.checkout.serverSpanId);
    expect(doc.spans[1].status).toEqual({ code: 'STATUS_CODE_ERROR', message: 'inventory unavailable' });
    expect(doc.spans[1].events.map((e) => e.name)).toEqual(['retry']);
    expect(doc.spans[0].attributes).toMatchObject({ 'http.route': '/orders' });
    expect(doc.spans[0].durationMs).toBeCloseTo(200, 3);
    expect(doc.spans[1].offsetMs).toBeCloseTo(20, 3);
    expect(doc.logs.map((l) => l.body)).toEqual(f.checkout.logBodies);
    expect(doc.logs.map((l) => l.spanId)).toEqual([f.checkout.serverSpanId, f.checkout.clientSpanId, f.checkout.clientSpanId, f.checkout.serverSpanId]);
    expect(doc.logs.map((l) => l.severity)).toEqual(['info', 'info', 'error', 'warn']);
    const offsets = doc.logs.map((l) => l.offsetMs);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(doc.logs[0].timeUnixNano).toMatch(/^\d{19}$/);
    expect(doc).toMatchObject({ spanCount: 2, error: true, errorLogs: 1, logCounts: { info: 2, warn: 1, error: 1 } });
    expect(doc.resources[0]).toEqual({ serviceName: 'checkout', attributes: expect.objectContaining({ 'service.version': '1.4.0' }) });
  });

  it('serves the service graph edges: the user calling the root server span\'s service', async () => {
    const r = await get(`${f.base}/api/v1/service-graph`);
    expect(r.status).toBe(200);
    const body = r.body as { enabled: boolean; edges: { client: string; server: string; connection_type: string; requests: number; failed: number; server_seconds_sum: number }[] };
    expect(body.enabled).toBe(true);
    expect(body.edges).toHaveLength(1);
    expect(body.edges[0]).toMatchObject({ client: 'user', server: 'checkout', connection_type: 'virtual_node', requests: 1, failed: 0 });
    expect(body.edges[0].server_seconds_sum).toBeCloseTo(0.2, 6);
  });

  it('accepts upper-case ids, refuses malformed ones with 400 and unknown ones with 404', async () => {
    expect((await get(`${f.base}/api/v1/traces/${f.checkout.traceId.toUpperCase()}`)).status).toBe(200);
    for (const bad of ['abc', 'zz' + f.checkout.traceId.slice(2), '0'.repeat(32), f.checkout.traceId + '00']) {
      const r = await get(`${f.base}/api/v1/traces/${bad}`);
      expect(r.status, bad).toBe(400);
      expect((r.body as { error: string }).error).toContain('32 hex digits');
    }
    const unknown = await get(`${f.base}/api/v1/traces/${'ab'.repeat(16)}`);
    expect(unknown.status).toBe(404);
  });

  it('lists recent traces with span count, duration, error flag and log counts by severity', async () => {
    const { status, body } = await get(`${f.base}/api/v1/traces`);
    expect(status).toBe(200);
    const { traces } = body as { traces: Record<string, unknown>[] };
    const checkout = traces.find((t) => t.traceId === f.checkout.traceId)!;
    expect(checkout).toMatchObject({ rootName: 'POST /orders', rootService: 'checkout', spanCount: 2, error: true, errorLogs: 1, logCount: 4 });
    expect(checkout.durationMs).toBeCloseTo(200, 3);
    expect(traces.map((t) => t.traceId)).toContain(f.other.traceId);
  });

  it('filters the list by service, status, duration and limit', async () => {
    const ids = async (q: string) => ((await get(`${f.base}/api/v1/traces?${q}`)).body as { traces: { traceId: string }[] }).traces.map((t) => t.traceId);
    expect(await ids('service=billing')).toEqual([f.other.traceId]);
    expect(await ids('status=error')).toEqual([f.checkout.traceId]);
    expect(await ids('min_duration=100ms')).toEqual([f.checkout.traceId]);
    expect(await ids('min_duration=100')).toEqual([f.checkout.traceId]);
    expect(await ids('limit=1')).toHaveLength(1);
    expect(await ids('service=nobody')).toEqual([]);
  });

  it('answers 400 naming the parameter for bad filters', async () => {
    for (const [q, word] of [
      ['status=broken', 'status'],
      ['min_duration=soon', 'min_duration'],
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['colour=blue', 'unknown parameter'],
    ]) {
      const r = await get(`${f.base}/api/v1/traces?${q}`);
      expect(r.status, q).toBe(400);
      expect((r.body as { error: string }).error).toContain(word);
    }
  });

  it('serves the page with a strict content security policy', async () => {
    const page = await get(`${f.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="app.js"');
    expect((await get(`${f.base}/app.js`)).status).toBe(200);
    expect((await get(`${f.base}/style.css`)).status).toBe(200);
    expect((await get(`${f.base}/nope`)).status).toBe(404);
  });

  it('refuses other methods and non-loopback host names', async () => {
    const post = await fetch(`${f.base}/api/v1/traces`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(await rawGet(f.base, '/api/v1/traces', 'evil.example:9465')).toBe(403);
    expect(await rawGet(f.base, '/api/v1/traces', `localhost:${new URL(f.base).port}`)).toBe(200);
  });
});

describe('debug API with a token', () => {
  let f: DebugFixture;
  beforeAll(async () => {
    f = await startDebugFixture({ token: 's3cret-token' });
  });
  afterAll(() => f.stop());

  it('wants the bearer token on the API', async () => {
    const none = await get(`${f.base}/api/v1/traces`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await get(`${f.base}/api/v1/traces`, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`${f.base}/api/v1/traces`, { authorization: 's3cret-token' })).status).toBe(401);
    expect((await get(`${f.base}/api/v1/traces/${f.checkout.traceId}`)).status).toBe(401);
    expect((await get(`${f.base}/api/v1/service-graph`)).status).toBe(401);
    expect((await get(`${f.base}/api/v1/traces`, { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    expect((await get(`${f.base}/api/v1/traces/${f.checkout.traceId}`, { authorization: 'bearer s3cret-token' })).status).toBe(200);
  });

  it('serves the page itself without the token (it holds no data)', async () => {
    expect((await get(`${f.base}/`)).status).toBe(200);
  });
});
