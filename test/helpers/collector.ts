/**
 * A test OTLP/HTTP collector: a real HTTP (or HTTPS) server on 127.0.0.1 that decodes what it
 * receives with the project's codec (protobuf and JSON, gzip or not), records every request, and
 * misbehaves on demand.
 *
 *   const collector = await TestCollector.start();            // or start({ down: true }), start({ tls })
 *   collector.fail({ kind: 'status', status: 503, retryAfter: '1' }, { times: 3 });
 *   ... export to collector.url ...
 *   await collector.waitForItems('logs', 1000);
 *   collector.logRecords()                                      // what arrived, decoded
 *
 * Faults are rules taken in order: each applies to its next `times` requests (of `signal`, when
 * given), or to every request until `heal()`. With no rule left, requests are answered 200.
 * Only requests answered 2xx count as arrived (`accepted()`, `items()`, `spans()`,
 * `logRecords()`); every request, whatever happened to it, is in `requests`.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import type { Signal } from '../../src/otlp/signals.js';
import { countItems, decodeRequest, encodeResponse, type RequestOf, type WireFormat } from '../../src/otlp/codec.js';
import { encodeStatus } from '../../src/otlp/status.js';
import type { LogRecord, Span } from '../../src/otlp/types.js';
import { waitFor } from './wait.js';

export type Fault =
  /** Answer with this status, a google.rpc.Status body and, when given, a Retry-After header. */
  | { kind: 'status'; status: number; retryAfter?: string; message?: string }
  /** Answer 200 with a partial success rejecting `rejected` items. */
  | { kind: 'partial'; rejected: number; message?: string }
  /** Read the request and never answer (the client must time out). */
  | { kind: 'hang' }
  /** Cut the connection without answering. */
  | { kind: 'reset' }
  /** Answer 200, but at most `perSecond` requests per second; the others wait in line. */
  | { kind: 'slow'; perSecond: number };

export interface FaultOptions {
  /** How many requests the fault applies to; default: all, until `heal()`. */
  times?: number;
  /** Only requests of this signal. */
  signal?: Signal;
}

export interface RecordedRequest {
  signal: Signal | undefined;
  path: string;
  headers: http.IncomingHttpHeaders;
  format: WireFormat;
  /** Bytes on the wire (compressed when gzip). */
  wireBytes: number;
  /** The decoded request, when it decoded. */
  body?: RequestOf[Signal];
  items: number;
  /** Why the body did not decode (answered 400). */
  decodeError?: string;
  /** What the collector did: an HTTP status, or 'hang' / 'reset'. */
  outcome: number | 'hang' | 'reset';
  /** Items rejected in a partial success. */
  rejected: number;
  /** Subject CN of the client certificate (mutual TLS). */
  clientCertificate?: string;
  receivedAt: number;
}

export interface CollectorOptions {
  /** Serve HTTPS with this key and certificate; `ca` + `requestCert` ask for a client certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  /** Reserve a port but do not listen yet (`up()` starts listening): the backend is down. */
  down?: boolean;
  /** Largest request body after decompression; larger ones get 413. Default 64 MiB. */
  maxBodyBytes?: number;
  /**
   * Called with every decoded request answered 2xx; with it the bodies are not kept (`spans()`
   * and `logRecords()` stay empty), so a flood of exports costs the test no memory.
   */
  onAccepted?: (signal: Signal, body: RequestOf[Signal]) => void;
}

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' };

interface Rule {
  fault: Fault;
  remaining: number;
  signal?: Signal;
}

export class TestCollector {
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  private rules: Rule[] = [];
  private readonly sockets = new Set<Socket>();
  private slowNextAt = 0;
  private listening = false;

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
    private readonly secure: boolean,
    private readonly onAccepted?: CollectorOptions['onAccepted'],
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: CollectorOptions = {}): Promise<TestCollector> {
    const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
    let collector: TestCollector | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      collector!.handle(req, res, maxBody).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`test collector error: ${(err as Error).message}`);
      });
    };
    const server = options.tls
      ? https.createServer(
          { key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: options.tls.requestCert ?? false, rejectUnauthorized: options.tls.requestCert ?? false },
          handler,
        )
      : http.createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    collector = new TestCollector(server, port, Boolean(options.tls), options.onAccepted);
    collector.listening = true;
    if (options.down) await collector.down();
    return collector;
  }

  /** Base URL; the exporter appends /v1/<signal>. */
  get url(): string {
    return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Add a fault rule (see the file comment); returns this. */
  fail(fault: Fault, options: FaultOptions = {}): this {
    this.rules.push({ fault, remaining: options.times ?? Infinity, signal: options.signal });
    return this;
  }

  /** Forget every fault rule: answer 200 from now on. Requests already hanging keep hanging. */
  heal(): this {
    this.rules = [];
    return this;
  }

  /** Stop listening and cut every connection: clients get "connection refused". */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = once(this.server, 'close');
    this.server.close();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listen again, on the same port. */
  async up(): Promise<void> {
    if (this.listening) return;
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.listening = true;
  }

  async close(): Promise<void> {
    this.rules = [];
    await this.down();
  }

  /** Requests of `signal` answered 2xx, in arrival order. */
  accepted(signal: Signal): RecordedRequest[] {
    return this.requests.filter((r) => r.signal === signal && typeof r.outcome === 'number' && r.outcome >= 200 && r.outcome < 300);
  }

  /** Items of `signal` that arrived (in requests answered 2xx, partially rejected ones included). */
  items(signal: Signal): number {
    return this.accepted(signal).reduce((n, r) => n + r.items, 0);
  }

  /** Items of `signal` the collector rejected in partial successes. */
  rejected(signal: Signal): number {
    return this.accepted(signal).reduce((n, r) => n + r.rejected, 0);
  }

  spans(): Span[] {
    return this.accepted('traces').flatMap((r) =>
      ((r.body as RequestOf['traces'] | undefined)?.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])),
    );
  }

  logRecords(): LogRecord[] {
    return this.accepted('logs').flatMap((r) =>
      ((r.body as RequestOf['logs'] | undefined)?.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? [])),
    );
  }

  /** Wait until at least `count` items of `signal` arrived. */
  async waitForItems(signal: Signal, count: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.items(signal) >= count, { timeoutMs, what: `${count} ${signal} items at the test collector (have ${this.items(signal)})` });
  }

  private takeFault(signal: Signal | undefined): Fault | undefined {
    const i = this.rules.findIndex((r) => r.remaining > 0 && (r.signal === undefined || r.signal === signal));
    if (i < 0) return undefined;
    const rule = this.rules[i];
    rule.remaining--;
    if (rule.remaining <= 0) this.rules.splice(i, 1);
    return rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, maxBody: number): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const signal = PATHS[path];
    const format: WireFormat = /json/i.test(req.headers['content-type'] ?? '') ? 'json' : 'protobuf';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const wire = Buffer.concat(chunks);
    const record: RecordedRequest = {
      signal,
      path,
      headers: req.headers,
      format,
      wireBytes: wire.length,
      items: 0,
      outcome: 0,
      rejected: 0,
      receivedAt: Date.now(),
    };
    const peer = this.secure ? (req.socket as TLSSocket).getPeerCertificate?.() : undefined;
    if (peer?.subject?.CN) record.clientCertificate = String(peer.subject.CN);
    this.requests.push(record);

    const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
    const answer = (status: number, body: Uint8Array, headers: Record<string, string> = {}) => {
      record.outcome = status;
      if (this.onAccepted && record.body && status >= 200 && status < 300) {
        this.onAccepted(signal, record.body);
        record.body = undefined;
      }
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(body);
    };
    if (req.method !== 'POST' || !signal) return answer(404, encodeStatus({ code: 5, message: `no route for ${req.method} ${path}` }, format));

    let body: Buffer = wire;
    try {
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(wire, { maxOutputLength: maxBody });
      if (body.length > maxBody) return answer(413, encodeStatus({ code: 8, message: 'request too large' }, format));
      record.body = decodeRequest(signal, body, format);
      record.items = countItems(signal, record.body);
    } catch (err) {
      record.decodeError = (err as Error).message;
      return answer(400, encodeStatus({ code: 3, message: record.decodeError }, format));
    }

    const fault = this.takeFault(signal);
    switch (fault?.kind) {
      case undefined:
        return answer(200, encodeResponse(signal, undefined, format));
      case 'status':
        return answer(
          fault.status,
          encodeStatus({ code: 14, message: fault.message ?? `test collector answers ${fault.status}` }, format),
          fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
        );
      case 'partial': {
        record.rejected = Math.min(fault.rejected, record.items);
        return answer(200, encodeResponse(signal, { rejected: record.rejected, errorMessage: fault.message ?? 'rejected by the test collector' }, format));
      }
      case 'hang':
        record.outcome = 'hang';
        return; // the client times out and closes the connection
      case 'reset':
        record.outcome = 'reset';
        req.socket.destroy();
        return;
      case 'slow': {
        const now = Date.now();
        const at = Math.max(now, this.slowNextAt);
        this.slowNextAt = at + 1000 / fault.perSecond;
        await new Promise((r) => setTimeout(r, at - now));
        if (req.socket.destroyed) {
          record.outcome = 'reset';
          return;
        }
        return answer(200, encodeResponse(signal, undefined, format));
      }
    }
  }
}
