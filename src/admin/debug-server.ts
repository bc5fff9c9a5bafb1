/**
 * The debug server on `debug.endpoint` (the README's Debug API): the trace API over the correlation index
 * and a small page over it. Loopback by default; with `debug.token` set, the API wants
 * `Authorization: Bearer <token>` (compared in constant time). Without a token, requests must name
 * a loopback host, so that a web page elsewhere cannot reach the API by DNS rebinding. The page
 * itself (static files, no data) is served without the token; it asks for one when the API does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BaseComponent } from '../component.js';
import type { Endpoint } from '../config/schema.js';
import { isLoopback } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { closeServer, httpUrl, listenTcp } from '../net.js';
import type { EdgeSummary } from '../metrics/service-graph.js';
import type { TraceIndex } from '../processors/correlation/trace-index.js';
import { parseTraceQuery, TRACE_ID_RE, traceDocument, traceSummary } from './debug-api.js';

export interface DebugServerOptions {
  endpoint: Endpoint;
  token: string | null;
  maxConnections: number;
  index: TraceIndex;
  /** The service graph's edges (`GET /api/v1/service-graph`), when metrics.service_graph is on. */
  serviceGraph?: { edges(): EdgeSummary[] };
  log: Logger;
}

/** The page: plain files next to this module (copied to dist/ by the build). */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const PAGE_DIR = new URL('./debug-page/', import.meta.url);

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export class DebugServer extends BaseComponent {
  private readonly server: Server;
  private bound?: Endpoint;
  private readonly tokenDigest?: Buffer;
  private page = new Map<string, { body: Buffer; type: string }>();

  constructor(private readonly options: DebugServerOptions) {
    super('debug');
    if (options.token) this.tokenDigest = digest(options.token);
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
      try {
        this.handle(req, res);
      } catch (err) {
        options.log.error({ err }, 'debug request failed');
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        else res.end();
      }
    });
    this.server.maxConnections = options.maxConnections;
    this.server.setTimeout(30_000);
  }

  get address(): Endpoint | undefined {
    return this.bound;
  }

  protected async doStart(): Promise<void> {
    for (const [path, { file, type }] of Object.entries(PAGE_FILES)) this.page.set(path, { body: readFileSync(new URL(file, PAGE_DIR)), type });
    this.bound = await listenTcp(this.server, this.options.endpoint, 'debug.endpoint');
    this.options.log.info({ listener: 'debug.endpoint', endpoint: `${this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host}:${this.bound.port}`, url: httpUrl(this.bound, '/') }, 'listening');
  }

  protected async doStop(): Promise<void> {
    await closeServer(this.server, 1000);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://debug.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS, 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (!this.tokenDigest && !this.hostAllowed(req.headers.host)) {
      this.json(res, 403, { error: 'the debug server answers loopback host names only (set debug.token to serve others)' });
      return;
    }
    const page = this.page.get(url.pathname);
    if (page) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': page.type, 'content-length': page.body.byteLength, 'content-security-policy': PAGE_CSP });
      res.end(req.method === 'HEAD' ? undefined : page.body);
      return;
    }
    if (url.pathname === '/api/v1/traces' || url.pathname.startsWith('/api/v1/traces/') || url.pathname === '/api/v1/service-graph') {
      if (!this.authorized(req.headers.authorization)) {
        res.setHeader('www-authenticate', 'Bearer realm="tracetail debug"');
        this.json(res, 401, { error: 'missing or wrong bearer token (debug.token)' });
        return;
      }
      if (url.pathname === '/api/v1/traces') return this.list(url, res);
      if (url.pathname === '/api/v1/service-graph') return this.json(res, 200, { enabled: this.options.serviceGraph !== undefined, edges: this.options.serviceGraph?.edges() ?? [] });
      return this.trace(url.pathname.slice('/api/v1/traces/'.length), res);
    }
    this.json(res, 404, { error: `not found; try /, /api/v1/traces, /api/v1/traces/{traceId}, /api/v1/service-graph` });
  }

  private list(url: URL, res: ServerResponse): void {
    const q = parseTraceQuery(url.searchParams);
    if (!q.ok) return this.json(res, 400, { error: q.error });
    const traces = this.options.index.query(q.query).map(traceSummary);
    this.json(res, 200, { traces, indexedTraces: this.options.index.size });
  }

  private trace(id: string, res: ServerResponse): void {
    if (!TRACE_ID_RE.test(id) || /^0+$/.test(id)) {
      return this.json(res, 400, { error: `expected a trace id of 32 hex digits (not all zero), got ${JSON.stringify(id.slice(0, 64))}` });
    }
    const entry = this.options.index.get(id.toLowerCase());
    if (!entry) return this.json(res, 404, { error: `trace ${id.toLowerCase()} is not in the index (unknown, or older than correlation.window)` });
    this.json(res, 200, traceDocument(entry));
  }

  private authorized(header: string | undefined): boolean {
    if (!this.tokenDigest) return true;
    const m = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
    // Digests have one length, so the comparison time says nothing about the token.
    return timingSafeEqual(digest(m?.[1] ?? ''), this.tokenDigest) && m !== null;
  }

  private hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
    return isLoopback(name) || name === this.bound?.host;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }
}
