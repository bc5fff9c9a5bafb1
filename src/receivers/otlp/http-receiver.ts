/**
 * An OTLP/HTTP listener: the shared request handler served on loopback TCP
 * (`receivers.otlp.http.endpoint`) or on a Unix socket (`receivers.otlp.unix.path`).
 *
 * Slow clients: the headers must arrive within `limits.header_timeout` (answered 408 and closed),
 * the body within `limits.body_timeout` once the headers are in (the handler answers 408). Idle
 * keep-alive connections are closed after KEEP_ALIVE_MS. At most `limits.max_connections` are
 * open at once; more are closed on accept and counted.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ListenAddress } from '../../config/schema.js';
import type { Logger } from '../../logger.js';
import { closeServer } from '../../net.js';
import { createOtlpHttpHandler } from './http-handler.js';
import type { OtlpIngest } from './ingest.js';
import { ListeningReceiver, Listener } from './listen.js';

/** An SDK exporting every few seconds keeps its connection; idle ones are closed after this. */
const KEEP_ALIVE_MS = 30_000;

export interface OtlpHttpReceiverOptions {
  /** The config key of the address, for the listener line and errors. */
  configKey: string;
  address: ListenAddress;
  socketMode?: number;
  ingest: OtlpIngest;
  limits: { maxRequestBytes: number; maxConnections: number; headerTimeoutMs: number; bodyTimeoutMs: number };
  log: Logger;
}

export class OtlpHttpReceiver extends ListeningReceiver {
  private readonly server: Server;
  protected readonly listener: Listener;

  constructor(private readonly o: OtlpHttpReceiverOptions) {
    super(`receiver/otlp-${o.ingest.transport}`);
    const { limits } = o;
    const handler = createOtlpHttpHandler(o.ingest, { maxBytes: limits.maxRequestBytes, timeoutMs: limits.bodyTimeoutMs });
    this.server = createServer(
      {
        headersTimeout: limits.headerTimeoutMs,
        // A backstop only: the handler enforces the body timeout itself.
        requestTimeout: limits.headerTimeoutMs + limits.bodyTimeoutMs + 1000,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headerTimeoutMs / 2))),
        keepAliveTimeout: KEEP_ALIVE_MS,
      },
      handler,
    );
    // Refuse a request (too large, wrong type) before its client sends the body, not after.
    this.server.on('checkContinue', (req, res) => handler(req, res, true));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    this.listener = new Listener(this.server, { ...o, maxConnections: limits.maxConnections, onRefused: () => o.ingest.metrics.connectionsRefused.inc() });
  }

  protected async close(): Promise<void> {
    await closeServer(this.server, 2000);
  }

  /** Malformed requests and header timeouts, answered as Node would, and counted. */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    this.o.ingest.metrics.request('unknown', status).inc();
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  }
}
