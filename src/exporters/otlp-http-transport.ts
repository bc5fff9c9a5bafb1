/**
 * OTLP/HTTP export of one signal (traces, logs, or forwarded metrics): one POST per call, no
 * retries of its own. The payload is the queue's pre-encoded protobuf request; `http/json`
 * re-encodes it with the codec (hex ids, int64 as strings), so what the app sent leaves unchanged.
 *
 * Why node:http(s) and not `@opentelemetry/otlp-exporter-base`: its public HTTP entry point,
 * `createOtlpHttpExportDelegate`, always wraps the HTTP transport in its own RetryingTransport (up
 * to five more attempts inside the timeout) and then reports only SUCCESS or FAILED: the
 * retryable/permanent distinction, Retry-After and the partial-success count are lost. Our
 * sender would retry on top of that, so one outage would multiply the requests by six and
 * Retry-After could not be honoured. The plain transport underneath (`createHttpExporterTransport`)
 * is not in the package's exports map. So the request is made here, following the same OTLP
 * rules (429/502/503/504 and connection errors retryable, Retry-After in seconds or HTTP-date),
 * and `RetryPolicy` in the sender is the only retry loop. `bench/export.bench.mjs` measures both.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createGzip, gunzipSync } from 'node:zlib';
import type { ExportTarget } from '../config/otel-env.js';
import type { Signal } from '../otlp/signals.js';
import { ConfigError, EnvironmentError } from '../errors.js';
import { decodeRequest, decodeResponse, toJsonObject, type WireFormat } from '../otlp/codec.js';
import { decodeStatus } from '../otlp/status.js';
import { VERSION } from '../version.js';
import { isGzip, joined, partsOf, uncompressedPart, type Payload, type SendOptions, type SendResult, type Transport } from './transport.js';

/** The statuses the OTLP specification says to retry; every other non-2xx status is permanent. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** A Retry-After header in ms from `now`: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone takes "-5".
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface OtlpHttpTransportOptions {
  target: ExportTarget;
  /** Sockets kept open to the backend: the sender's concurrency. */
  maxSockets: number;
  /** Most response bytes read (an error message or a partial success); the rest is discarded. */
  maxResponseBytes?: number;
}

export class OtlpHttpTransport implements Transport {
  readonly name = 'otlp-http';
  readonly url: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly headers: Record<string, string>;
  private readonly format: WireFormat;
  private readonly maxResponseBytes: number;

  constructor(private readonly o: OtlpHttpTransportOptions) {
    const { target } = o;
    this.url = new URL(target.url);
    this.format = target.protocol === 'http/json' ? 'json' : 'protobuf';
    this.maxResponseBytes = o.maxResponseBytes ?? 4 * 1024 * 1024;
    this.headers = {};
    for (const [name, value] of Object.entries(target.headers)) {
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
      } catch (err) {
        throw new ConfigError([{ path: `export.otlp.headers.${name}`, message: (err as Error).message }]);
      }
      this.headers[name.toLowerCase()] = value;
    }
    // Ours win: the body's type and encoding are decided here, not by a configured header.
    this.headers['content-type'] = this.format === 'json' ? 'application/json' : 'application/x-protobuf';
    this.headers['user-agent'] = `tracetail/${VERSION}`;
    if (target.compression === 'gzip') this.headers['content-encoding'] = 'gzip';
    else delete this.headers['content-encoding'];

    const agentOptions = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets, scheduling: 'lifo' as const };
    if (this.url.protocol === 'https:') {
      const { tls } = target;
      this.agent = new https.Agent({
        ...agentOptions,
        ca: tls.caFile ? readPem(tls.caFile, 'export.otlp.tls.ca_file (OTEL_EXPORTER_OTLP_CERTIFICATE)') : undefined,
        cert: tls.certFile ? readPem(tls.certFile, 'export.otlp.tls.cert_file (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)') : undefined,
        key: tls.keyFile ? readPem(tls.keyFile, 'export.otlp.tls.key_file (OTEL_EXPORTER_OTLP_CLIENT_KEY)') : undefined,
        rejectUnauthorized: !tls.insecureSkipVerify,
      });
      this.request = https.request;
    } else {
      this.agent = new http.Agent(agentOptions);
      this.request = http.request;
    }
  }

  async send(signal: Signal, payload: Payload, _items: number, options: SendOptions = {}): Promise<SendResult> {
    let body: Uint8Array;
    try {
      const parts = partsOf(payload);
      const gzip = this.headers['content-encoding'] === 'gzip';
      if (this.format === 'json') {
        const json = Buffer.from(JSON.stringify(toJsonObject(signal, decodeRequest(signal, await joined(parts), 'protobuf'))));
        body = gzip ? await gzipped([json], this.o.target.compressionLevel) : json;
      } else if (gzip) {
        // An entry the queue keeps compressed is a request body as it is.
        body = parts.length === 1 && isGzip(parts[0]) ? parts[0] : await gzipped(parts, this.o.target.compressionLevel);
      } else {
        body = await joined(parts);
      }
    } catch (err) {
      // Only a damaged queue entry gets here: sending it again would fail the same way.
      return { kind: 'permanent', reason: `cannot read the queued request: ${(err as Error).message}` };
    }
    return this.post(signal, body, options.abort);
  }

  private post(signal: Signal, body: Uint8Array, abort: AbortSignal | undefined): Promise<SendResult> {
    const timeoutMs = this.o.target.timeoutMs;
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const req = this.request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': String(body.byteLength) } },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size >= this.maxResponseBytes) return;
            chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => finish(this.classify(signal, res, Buffer.concat(chunks))));
          res.on('error', (err) => {
            const status = res.statusCode ?? 0;
            // The status line arrived: a 2xx means the backend took the request.
            finish(status >= 200 && status < 300 ? { kind: 'success' } : { kind: 'retryable', reason: `response interrupted: ${describeError(err)}` });
          });
        },
      );
      const timer = setTimeout(() => {
        finish({ kind: 'retryable', reason: `no response within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish({ kind: 'retryable', reason: 'aborted: the sidecar is stopping' });
        req.destroy();
      };
      req.on('error', (err) => finish({ kind: 'retryable', reason: describeError(err) }));
      if (abort?.aborted) return onAbort();
      abort?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  private classify(signal: Signal, res: http.IncomingMessage, raw: Buffer): SendResult {
    const status = res.statusCode ?? 0;
    let body: Buffer = raw;
    if (res.headers['content-encoding'] === 'gzip' && raw.length > 0) {
      try {
        body = gunzipSync(raw, { maxOutputLength: this.maxResponseBytes });
      } catch {
        body = Buffer.alloc(0);
      }
    }
    const type = res.headers['content-type'] ?? '';
    const format: WireFormat = /json/i.test(type) ? 'json' : 'protobuf';
    if (status >= 200 && status < 300) {
      try {
        return { kind: 'success', partial: decodeResponse(signal, body, format) };
      } catch {
        return { kind: 'success' }; // accepted; the body just is not an OTLP response
      }
    }
    const message = backendMessage(body, type);
    const reason = `HTTP ${status}${message ? `: ${message}` : ''}`;
    if (isRetryableStatus(status)) return { kind: 'retryable', reason, retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
    return status === 413 ? { kind: 'permanent', reason, tooLarge: true } : { kind: 'permanent', reason };
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** What the backend said about a failure: a google.rpc.Status message, else the start of a text body. */
function backendMessage(body: Buffer, contentType: string): string {
  if (body.length === 0) return '';
  const status = /protobuf/i.test(contentType) ? decodeStatus(body, 'protobuf') : /json/i.test(contentType) ? decodeStatus(body, 'json') : undefined;
  const text = status?.message ?? (/protobuf/i.test(contentType) ? '' : body.subarray(0, 512).toString('utf8'));
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/**
 * The parts gzip-compressed as one stream: read where they are, never joined uncompressed; a part
 * kept compressed by the queue is decompressed on the way, one at a time.
 */
async function gzipped(parts: readonly Uint8Array[], level: number): Promise<Buffer> {
  const gz = createGzip({ level });
  const out: Buffer[] = [];
  gz.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  try {
    for (const part of parts) {
      if (!gz.write(await uncompressedPart(part))) await Promise.race([new Promise((resolve) => gz.once('drain', resolve)), done]);
    }
    gz.end();
    await done;
  } catch (err) {
    gz.destroy();
    throw err;
  }
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

function describeError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EnvironmentError(`${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}
