/**
 * Every refusal of the OTLP receivers, each followed by a good request that must succeed: 400, 404,
 * 405, 408 (slow headers, slow body), 413 (declared, streamed, inflated), 415, 429 and 503 with
 * Retry-After, partial success, the connection cap, and the gRPC status codes.
 */
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimitError, QueueFullError, StoppedError } from '../../../src/errors.js';
import { RpcCode, decodeResponse, decodeStatus, encodeRequest, grpcMethodPath, requestType } from '../../../src/otlp/codec.js';
import { waitFor } from '../../helpers/wait.js';
import { capturedSpans, request, startOtlp, type OtlpHarness, type RawResponse } from './harness.js';

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

let spanCounter = 0;
function span(traceId = '5b8efff798038103d269b633813fc60c', spanId?: string) {
  spanCounter++;
  return { traceId, spanId: spanId ?? spanCounter.toString(16).padStart(16, '0'), name: `span-${spanCounter}`, startTimeUnixNano: '1750000000000000000', endTimeUnixNano: '1750000000000000001' };
}
function traceJson(spans = [span()]) {
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'errors' } }] }, scopeSpans: [{ spans }] }] };
}
function tracePb(spans = [span()]): Uint8Array {
  const obj = traceJson(spans);
  for (const s of obj.resourceSpans[0].scopeSpans[0].spans) Object.assign(s, { traceId: Buffer.from(s.traceId, 'hex'), spanId: Buffer.from(s.spanId, 'hex') });
  return encodeRequest('traces', requestType.traces.fromObject(obj) as never);
}

/** Raw bytes on a fresh connection; resolves with everything the server sent once it closes. */
function rawExchange(target: string, write: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const socket = net.connect(port, host, () => write(socket));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('OTLP/HTTP refusals', () => {
  let h: OtlpHarness;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  async function expectGood(target = h.http): Promise<RawResponse> {
    const before = h.traces.batches.length;
    const res = await request(target, { path: '/v1/traces', headers: PB, body: tracePb(), agent });
    expect(res.status).toBe(200);
    expect(h.traces.batches.length).toBe(before + 1);
    return res;
  }

  beforeAll(async () => {
    h = await startOtlp({ limits: { max_request_bytes: 65536, body_timeout: '400ms', header_timeout: '400ms' } });
  });
  afterAll(async () => {
    agent.destroy();
    await h?.stop();
  });
  afterEach(() => {
    h.traces.fail = undefined;
  });

  it('has the error series at zero before any request', async () => {
    for (const code of ['200', '400', '413', '415', '429', '503']) {
      expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'unix', signal: 'logs', code })).toBe(0);
    }
    expect(await h.metricValue('tracetail_spans_received_total', { transport: 'grpc' })).toBe(0);
    expect(await h.metricValue('tracetail_otlp_items_rejected_total', { transport: 'http', signal: 'traces', reason: 'invalid_id' })).toBe(0);
  });

  it('404 for an unknown path', async () => {
    const res = await request(h.http, { path: '/v1/spans', headers: PB, body: tracePb(), agent });
    expect(res.status).toBe(404);
    expect(decodeStatus(res.body).message).toContain('/v1/traces');
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'unknown', code: '404' })).toBe(1);
    await expectGood();
  });

  it('405 for a method other than POST', async () => {
    const res = await request(h.http, { method: 'GET', path: '/v1/traces', agent });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body.toString()).toContain('use POST');
    await expectGood();
  });

  it('415 for another content type or content encoding', async () => {
    const type = await request(h.http, { path: '/v1/traces', headers: { 'content-type': 'text/plain' }, body: 'hello', agent });
    expect(type.status).toBe(415);
    expect(type.body.toString()).toContain('application/x-protobuf');
    // the refused body was read and dropped: the same connection carries the next request
    expect((await expectGood()).reused).toBe(true);
    const none = await request(h.http, { path: '/v1/traces', body: tracePb(), agent });
    expect(none.status).toBe(415);
    const enc = await request(h.http, { path: '/v1/traces', headers: { ...PB, 'content-encoding': 'br' }, body: tracePb(), agent });
    expect(enc.status).toBe(415);
    expect(enc.headers['accept-encoding']).toBe('gzip, deflate');
    expect(decodeStatus(enc.body).message).toContain('"br"');
    await expectGood();
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'traces', code: '415' })).toBe(3);
  });

  it('400 with a reason for undecodable bodies, in the request encoding', async () => {
    const garbage = await request(h.http, { path: '/v1/traces', headers: PB, body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), agent });
    expect(garbage.status).toBe(400);
    expect(garbage.headers['content-type']).toBe('application/x-protobuf');
    expect(decodeStatus(garbage.body)).toMatchObject({ code: RpcCode.INVALID_ARGUMENT, message: expect.stringContaining('invalid protobuf') });
    await expectGood();

    const json = await request(h.http, { path: '/v1/traces', headers: JSON_CT, body: '{"resourceSpans": [', agent });
    expect(json.status).toBe(400);
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toMatchObject({ code: 3, message: expect.stringContaining('invalid JSON') });
    await expectGood();

    const badHex = await request(h.http, { path: '/v1/traces', headers: JSON_CT, body: JSON.stringify(traceJson([span('not-hex')])), agent });
    expect(badHex.status).toBe(400);
    expect(JSON.parse(badHex.body.toString()).message).toContain('traceId');
    await expectGood();

    const wrongType = await request(h.http, { path: '/v1/traces', headers: JSON_CT, body: '{"resourceSpans": {"a": 1}}', agent });
    expect(wrongType.status).toBe(400);
    await expectGood();

    const badGzip = await request(h.http, { path: '/v1/traces', headers: { ...PB, 'content-encoding': 'gzip' }, body: Buffer.concat([gzipSync(tracePb()).subarray(0, 20), Buffer.from('garbage')]), agent });
    expect(badGzip.status).toBe(400);
    expect(decodeStatus(badGzip.body).message).toContain('invalid gzip body');
    await expectGood();

    // a string field that is not UTF-8: refused rather than silently replaced with U+FFFD
    const obj = traceJson([{ ...span(), name: 'PLACEHOLDER' }]);
    const pb = Buffer.from(tracePbFrom(obj));
    const at = pb.indexOf('PLACEHOLDER');
    pb[at] = 0xc3; // a lone UTF-8 lead byte
    pb[at + 1] = 0x28;
    const utf8 = await request(h.http, { path: '/v1/traces', headers: PB, body: pb, agent });
    expect(utf8.status).toBe(400);
    expect(decodeStatus(utf8.body).message).toContain('UTF-8');
    await expectGood();
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'traces', code: '400' })).toBe(6);
  });

  it('413 past max_request_bytes: announced, streamed, and after decompression', async () => {
    const big = Buffer.alloc(70_000, 1);
    const declared = await request(h.http, { path: '/v1/traces', headers: { ...PB, 'content-length': big.length }, body: big, agent: undefined });
    expect(declared.status).toBe(413);
    expect(decodeStatus(declared.body).message).toContain('limits.max_request_bytes');
    await expectGood();

    const chunked = await new Promise<RawResponse>((resolve, reject) => {
      const [host, port] = h.http.split(':');
      const req = http.request({ host, port: Number(port), method: 'POST', path: '/v1/traces', headers: { ...PB, 'transfer-encoding': 'chunked' }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(16_384, 2));
      req.end();
    });
    expect(chunked.status).toBe(413);
    await expectGood();

    // small on the wire, 200 kB once inflated
    const inflated = await request(h.http, { path: '/v1/traces', headers: { ...PB, 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(200_000)), agent });
    expect(inflated.status).toBe(413);
    expect(decodeStatus(inflated.body).message).toContain('larger than limits.max_request_bytes (65536 bytes)');
    await expectGood();
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'traces', code: '413' })).toBe(3);
  });

  it('429 with Retry-After when over the memory limit, 503 when the queue is full or stopping', async () => {
    h.traces.fail = () => new MemoryLimitError('memory above limits.memory_mib', 2500);
    const busy = await request(h.http, { path: '/v1/traces', headers: PB, body: tracePb(), agent });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('3');
    expect(decodeStatus(busy.body)).toEqual({ code: RpcCode.RESOURCE_EXHAUSTED, message: 'memory above limits.memory_mib', retryAfterMs: 2500 });
    h.traces.fail = undefined;
    await expectGood();

    h.traces.fail = () => new QueueFullError('export queue is full', 5000);
    const full = await request(h.unix, { path: '/v1/traces', headers: JSON_CT, body: JSON.stringify(traceJson()) });
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('5');
    expect(JSON.parse(full.body.toString())).toMatchObject({ code: RpcCode.UNAVAILABLE, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '5s' }] });
    h.traces.fail = () => new StoppedError('tracetail is stopping');
    expect((await request(h.http, { path: '/v1/traces', headers: PB, body: tracePb(), agent })).status).toBe(503);
    h.traces.fail = undefined;
    await expectGood(h.unix);
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'unix', signal: 'traces', code: '503' })).toBe(1);
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'traces', code: '429' })).toBe(1);
  });

  it('429 before reading the body when the memory guard refuses admission', async () => {
    const before = h.traces.batches.length;
    h.refuseAdmission = () => new MemoryLimitError('memory above limits.memory_mib', 1000);
    const refused = await request(h.http, { path: '/v1/traces', headers: PB, body: tracePb(), agent });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(h.traces.batches.length).toBe(before);
    h.refuseAdmission = undefined;
    await expectGood();
  });

  it('200 with partial success for spans and log records with invalid ids; the valid ones are kept', async () => {
    const good = span();
    const spans = [good, span('5b8efff798038103'), span(undefined, '0000000000000000'), span('00000000000000000000000000000000')];
    h.traces.batches.length = 0;
    const json = await request(h.http, { path: '/v1/traces', headers: JSON_CT, body: JSON.stringify(traceJson(spans)), agent });
    expect(json.status).toBe(200);
    const body = JSON.parse(json.body.toString());
    expect(body.partialSuccess.rejectedSpans).toBe('3');
    expect(body.partialSuccess.errorMessage).toContain('trace_id must be 16 bytes');
    expect(capturedSpans(h.traces.batches).map((s) => (s.span as { spanId: string }).spanId)).toEqual([good.spanId]);

    const pb = await request(h.http, { path: '/v1/traces', headers: PB, body: tracePb([span(), span(undefined, '00')]), agent });
    expect(pb.status).toBe(200);
    expect(decodeResponse('traces', pb.body, 'protobuf')).toEqual({ rejected: 1, errorMessage: expect.stringContaining('span_id must be 8 bytes') });
    expect(await h.metricValue('tracetail_otlp_items_rejected_total', { transport: 'http', signal: 'traces', reason: 'invalid_id' })).toBe(4);

    const logs = {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { body: { stringValue: 'ok too' }, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }, { spanId: 'ee' }] }] }],
    };
    h.logs.batches.length = 0;
    const lr = await request(h.http, { path: '/v1/logs', headers: JSON_CT, body: JSON.stringify(logs), agent });
    expect(lr.status).toBe(200);
    expect(JSON.parse(lr.body.toString()).partialSuccess).toEqual({ rejectedLogRecords: '1', errorMessage: expect.stringContaining('span_id must be empty or 8 bytes') });
    expect(h.logs.batches[0].resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(2);
    await expectGood();
  });

  it('an empty request is a success and hands nothing on', async () => {
    const before = h.traces.batches.length;
    expect((await request(h.http, { path: '/v1/traces', headers: PB, body: Buffer.alloc(0), agent })).status).toBe(200);
    const json = await request(h.http, { path: '/v1/traces', headers: JSON_CT, body: '{}', agent });
    expect([json.status, json.body.toString()]).toEqual([200, '{}']);
    expect(h.traces.batches.length).toBe(before);
  });

  it('answers Expect: 100-continue: refused up front without the body, or asked for it', async () => {
    const refused = await rawExchange(h.http, (s) => s.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n'));
    expect(refused).toMatch(/^HTTP\/1\.1 413 /);
    expect(refused).not.toContain('100 Continue');
    const body = Buffer.from(tracePb());
    const accepted = await rawExchange(h.http, (s) => {
      s.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
      s.once('data', (d) => {
        if (d.toString().startsWith('HTTP/1.1 100 Continue')) s.write(body);
      });
    });
    expect(accepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    await expectGood();
  });

  it('408 for a body that does not arrive in time', async () => {
    const text = await rawExchange(h.http, (s) => s.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n0123456789'));
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('limits.body_timeout');
    await expectGood();
  });

  it('408 for headers that do not arrive in time', async () => {
    const text = await rawExchange(h.http, (s) => s.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    await expectGood();
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'http', signal: 'unknown', code: '408' })).toBe(1);
  });
});

describe('connection cap', () => {
  let h: OtlpHarness;
  beforeAll(async () => {
    h = await startOtlp({ limits: { max_connections: 2 }, receivers: { otlp: { unix: null, grpc: null } } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('closes connections past limits.max_connections, counts them, and serves again once one is free', async () => {
    const [host, port] = h.http.split(':');
    const open = async () => {
      const s = net.connect(Number(port), host);
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const a = await open();
    const b = await open();
    await waitFor(async () => (await h.metricValue('tracetail_otlp_connections_refused_total', { transport: 'http' })) === 0);
    const c = await open();
    await new Promise<void>((resolve) => c.once('close', () => resolve()).on('error', () => undefined));
    expect(await h.metricValue('tracetail_otlp_connections_refused_total', { transport: 'http' })).toBe(1);
    a.destroy();
    await waitFor(async () => (await request(h.http, { path: '/v1/traces', headers: PB, body: tracePb() })).status === 200);
    b.destroy();
  });
});

function tracePbFrom(obj: ReturnType<typeof traceJson>): Uint8Array {
  for (const s of obj.resourceSpans[0].scopeSpans[0].spans) Object.assign(s, { traceId: Buffer.from(s.traceId, 'hex'), spanId: Buffer.from(s.spanId, 'hex') });
  return encodeRequest('traces', requestType.traces.fromObject(obj) as never);
}

describe('OTLP/gRPC refusals', () => {
  let h: OtlpHarness;
  let client: grpc.Client;
  const call = (body: Uint8Array, signal: 'traces' | 'logs' = 'traces') =>
    new Promise<{ err: grpc.ServiceError | null; value?: Buffer }>((resolve) =>
      client.makeUnaryRequest(grpcMethodPath(signal), (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), (err, value) => resolve({ err, value })),
    );

  beforeAll(async () => {
    h = await startOtlp({ limits: { max_request_bytes: 65536 }, receivers: { otlp: { http: null, unix: null } } });
    client = new grpc.Client(h.grpc, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await h?.stop();
  });
  afterEach(() => {
    h.traces.fail = undefined;
  });

  const expectOk = async () => expect((await call(tracePb())).err).toBeNull();

  it('INVALID_ARGUMENT for an undecodable message', async () => {
    const { err } = await call(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('invalid protobuf');
    await expectOk();
    expect(await h.metricValue('tracetail_otlp_requests_total', { transport: 'grpc', signal: 'traces', code: 'INVALID_ARGUMENT' })).toBe(1);
  });

  it('RESOURCE_EXHAUSTED with RetryInfo over the memory limit, UNAVAILABLE when the queue is full', async () => {
    h.traces.fail = () => new MemoryLimitError('memory above limits.memory_mib', 1500);
    const busy = await call(tracePb());
    expect(busy.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const details = busy.err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(decodeStatus(details)).toEqual({ code: RpcCode.RESOURCE_EXHAUSTED, message: 'memory above limits.memory_mib', retryAfterMs: 1500 });
    h.traces.fail = () => new QueueFullError('export queue is full', 4000);
    expect((await call(tracePb())).err?.code).toBe(grpc.status.UNAVAILABLE);
    h.traces.fail = undefined;
    await expectOk();
  });

  it('RESOURCE_EXHAUSTED for a message past max_request_bytes', async () => {
    const { err } = await call(Buffer.alloc(70_000, 0));
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await expectOk();
  });

  it('a partial success in the response message', async () => {
    const { err, value } = await call(tracePb([span(), span('ab')]));
    expect(err).toBeNull();
    expect(decodeResponse('traces', value!, 'protobuf')).toEqual({ rejected: 1, errorMessage: expect.stringContaining('trace_id') });
  });
});
