/** The admin server on `metrics.endpoint`: GET /metrics, /healthz, /readyz. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BaseComponent } from '../component.js';
import type { Endpoint } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { CONTENT_TYPE, negotiateFormat, renderRegistry } from '../metrics/exposition.js';
import type { Telemetry } from '../metrics/telemetry.js';
import { closeServer, httpUrl, listenTcp } from '../net.js';

export interface Readiness {
  ready: boolean;
  /** Why the sidecar is not ready (empty when ready). */
  reasons: string[];
}

export interface AdminServerOptions {
  endpoint: Endpoint;
  maxConnections: number;
  telemetry: Telemetry;
  readiness: () => Readiness;
  log: Logger;
}

export class AdminServer extends BaseComponent {
  private readonly server: Server;
  private bound?: Endpoint;

  constructor(private readonly options: AdminServerOptions) {
    super('admin');
    this.server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.log.error({ err }, 'admin request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server.maxConnections = options.maxConnections;
    this.server.setTimeout(30_000);
  }

  /** The address actually bound (port 0 resolved), once started. */
  get address(): Endpoint | undefined {
    return this.bound;
  }

  protected async doStart(): Promise<void> {
    this.bound = await listenTcp(this.server, this.options.endpoint, 'metrics.endpoint');
    this.options.log.info({ listener: 'metrics.endpoint', endpoint: `${this.bound.host}:${this.bound.port}`, url: httpUrl(this.bound, '/metrics') }, 'listening');
  }

  protected async doStop(): Promise<void> {
    await closeServer(this.server, 1000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = ROUTES[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try ${Object.keys(ROUTES).join(', ')}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const { status, type, body } = await route(this.options, req);
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

type Route = (o: AdminServerOptions, req: IncomingMessage) => Promise<{ status: number; type: string; body: string }>;

const ROUTES: Record<string, Route> = {
  '/metrics': async (o, req) => {
    const format = negotiateFormat(req.headers.accept);
    await o.telemetry.collect();
    return { status: 200, type: CONTENT_TYPE[format], body: await renderRegistry(o.telemetry.registry, format) };
  },
  '/healthz': async () => ({ status: 200, type: 'text/plain', body: 'ok\n' }),
  '/readyz': async (o) => {
    const r = o.readiness();
    return r.ready
      ? { status: 200, type: 'text/plain', body: 'ready\n' }
      : { status: 503, type: 'text/plain', body: `not ready: ${r.reasons.join('; ')}\n` };
  },
};
