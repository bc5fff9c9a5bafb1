/**
 * The OTLP/HTTP request handler (node:http, no framework), served on loopback TCP and on the
 * Unix socket. Routes `POST /v1/traces`, `/v1/logs`, `/v1/metrics`; bodies
 * `application/x-protobuf` or `application/json`, plain, gzip or deflate; the response is in the
 * request's content type. Status codes (OTLP specification, protocol/otlp.md):
 *
 * - 200 once the items are durable, with `partial_success` when some were refused;
 * - 400 undecodable body (a google.rpc.Status with the reason), 404 unknown path, 405 not POST,
 *   408 body not received within `limits.body_timeout`, 413 body past
 *   `limits.max_request_bytes` after decompression, 415 other content type or encoding;
 * - 429 / 503 with `Retry-After` when the sidecar pushes back (see ingest.ts).
 *
 * A refused request's body is read and thrown away (up to the size limit) so the connection stays
 * usable and the client sees the answer instead of a reset.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Signal } from '../../otlp/signals.js';
import { PayloadTooLargeError } from '../../errors.js';
import { RpcCode, encodeResponse, encodeStatus, type RpcStatus, type WireFormat } from '../../otlp/codec.js';
import type { MemoryReservation } from '../../component.js';
import { chunksRead } from '../../garbage-collection.js';
import { ClientGoneError, contentEncoding, readBody, type BodyLimits } from './body.js';
import type { OtlpIngest, Refusal } from './ingest.js';

const ROUTES = new Map<string, Signal>([
  ['/v1/traces', 'traces'],
  ['/v1/logs', 'logs'],
  ['/v1/metrics', 'metrics'],
]);

const CONTENT_TYPE: Record<WireFormat, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** The wire format of a `Content-Type` header (parameters such as charset ignored). */
export function wireFormat(header: string | undefined): WireFormat | undefined {
  if (!header) return undefined;
  const semi = header.indexOf(';');
  const type = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/** `expectsContinue`: the client sent `Expect: 100-continue` and waits for it before the body. */
export type OtlpHttpHandler = (req: IncomingMessage, res: ServerResponse, expectsContinue?: boolean) => void;

export function createOtlpHttpHandler(ingest: OtlpIngest, limits: BodyLimits): OtlpHttpHandler {
  const { metrics } = ingest;
  // Full-success answers are the same every time: encode them once.
  const success = new Map<string, Uint8Array>();
  for (const signal of ROUTES.values()) {
    for (const format of ['protobuf', 'json'] as const) success.set(`${signal} ${format}`, encodeResponse(signal, undefined, format));
  }

  function reply(res: ServerResponse, status: number, signal: Signal | 'unknown', format: WireFormat | undefined, body: Uint8Array, headers: Record<string, string> = {}) {
    metrics.request(signal, status).inc();
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': format ? CONTENT_TYPE[format] : 'text/plain; charset=utf-8', 'content-length': body.byteLength, ...headers });
    res.end(body);
  }

  /**
   * An error answer: a google.rpc.Status in the request's encoding, or text when that is unknown.
   * What is left of the body is read and dropped, unless it is not worth reading (announced past
   * the limit, or not arriving in time): then the connection is closed after the answer.
   */
  function refuse(req: IncomingMessage, res: ServerResponse, status: number, signal: Signal | 'unknown', format: WireFormat | undefined, rpc: RpcStatus, headers: Record<string, string> = {}) {
    if (!req.complete) {
      if (headers.connection === 'close' || status === 408 || Number(req.headers['content-length']) > limits.maxBytes) headers.connection = 'close';
      else discardBody(req, limits);
    }
    const body = format ? encodeStatus(rpc, format) : Buffer.from(`${rpc.message}\n`);
    reply(res, status, signal, format, body, headers);
  }

  function refuseWith(req: IncomingMessage, res: ServerResponse, signal: Signal, format: WireFormat, r: Refusal) {
    const headers: Record<string, string> = {};
    if (r.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(r.retryAfterMs / 1000));
    refuse(req, res, r.httpStatus, signal, format, { code: r.rpcCode, message: r.message, retryAfterMs: r.retryAfterMs }, headers);
  }

  return (req, res, expectsContinue = false) => {
    // A client waiting for 100 Continue sends no body when refused up front: the connection cannot
    // carry another request after it (the server cannot know), so it is closed after the answer.
    const early: Record<string, string> = expectsContinue ? { connection: 'close' } : {};
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const signal = ROUTES.get(path);
    const format = wireFormat(req.headers['content-type']);
    if (!signal) {
      const message = `no OTLP route ${JSON.stringify(path)}; use POST /v1/traces, /v1/logs or /v1/metrics`;
      return refuse(req, res, 404, 'unknown', format, { code: RpcCode.NOT_FOUND, message }, early);
    }
    if (req.method !== 'POST') {
      return refuse(req, res, 405, signal, format, { code: RpcCode.UNIMPLEMENTED, message: `${req.method} is not allowed on ${path}; use POST` }, { ...early, allow: 'POST' });
    }
    if (!format) {
      const message = `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`;
      return refuse(req, res, 415, signal, undefined, { code: RpcCode.INVALID_ARGUMENT, message }, { ...early, accept: 'application/x-protobuf, application/json' });
    }
    const encoding = contentEncoding(req.headers['content-encoding']);
    if (!encoding) {
      const message = `unsupported content encoding ${JSON.stringify(req.headers['content-encoding'])}; use gzip, deflate or none`;
      return refuse(req, res, 415, signal, format, { code: RpcCode.INVALID_ARGUMENT, message }, { ...early, 'accept-encoding': 'gzip, deflate' });
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limits.maxBytes) {
      const r = ingest.refusal(new PayloadTooLargeError(`request body of ${declared} bytes is larger than limits.max_request_bytes (${limits.maxBytes} bytes)`), signal);
      return refuseWith(req, res, signal, format, r);
    }
    // Above the memory limit, or when the request's cost does not fit beside those in flight,
    // push back before the body is read into memory.
    const reserved = Number.isFinite(declared) ? declared : 0;
    let reservation: MemoryReservation;
    try {
      reservation = ingest.reserve(reserved);
    } catch (err) {
      return refuseWith(req, res, signal, format, ingest.refusal(err, signal));
    }
    if (expectsContinue) res.writeContinue();
    readBody(req, encoding, limits)
      .then((body) => {
        // A body of unknown length, or one that inflated, reserves the rest of its cost.
        if (body.byteLength > reserved) reservation.grow(body.byteLength - reserved);
        return ingest.ingest(signal, body, format);
      })
      .finally(() => reservation.release())
      .then(
        ({ partial }) => reply(res, 200, signal, format, partial ? encodeResponse(signal, partial, format) : success.get(`${signal} ${format}`)!),
        (err: unknown) => {
          if (err instanceof ClientGoneError) return;
          refuseWith(req, res, signal, format, ingest.refusal(err, signal));
        },
      );
  };
}

/**
 * Read and drop what is left of a refused request's body, so the answer reaches the client (closing
 * with unread data would reset the connection under it) and the connection can carry the next
 * request. A body that keeps coming past the limit or the body timeout gets the connection cut.
 */
function discardBody(req: IncomingMessage, limits: BodyLimits): void {
  let dropped = 0;
  const timer = setTimeout(() => req.socket.destroy(), limits.timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    chunksRead(chunk.length);
    if (dropped > limits.maxBytes) req.socket.destroy();
  };
  req.on('data', onData);
  req.once('close', () => {
    clearTimeout(timer);
    req.off('data', onData);
  });
  req.resume();
}
