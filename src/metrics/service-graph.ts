/**
 * Service graph metrics from spans, with the names and labels of Grafana Tempo's metrics-generator
 * and the Collector's servicegraph connector: a request between two services is a client span
 * (CLIENT or PRODUCER) and the server span (SERVER or CONSUMER) whose parent it is. The two are
 * paired by trace id and the client's span id, wherever they come from: the app's own spans and
 * those its downstream services report in the same trace alike.
 *
 * - A pair found: one request on the edge `client -> server` (failed when either side has status
 *   ERROR), the server span's duration in `_server_seconds`, the client span's in `_client_seconds`.
 * - A root server span (no parent) has no client span to wait for: its client is the virtual node
 *   `user` (connection_type `virtual_node`), at once.
 * - A client span to a database (`db.system` or `db.name` set) has no server span to wait for
 *   either: the server is the database, named by its `peer.service`, `db.name`, `db.namespace` or
 *   `db.system` (`connection_type="database"`), at once, as the Collector does.
 * - A client span whose server span has not come within `wait` is an edge to the virtual node its
 *   peer attributes name (`peer.service`, `db.name`, `db.system`, `server.address`, first found); with
 *   none it is counted unpaired, as is a server span whose client never came.
 *
 * A span seen again (an SDK retrying a request whose answer it lost) is not counted again, as in
 * span metrics (`metrics.span_metrics.dedupe_window`, `dedupe_max_spans`).
 *
 * For a virtual node only one side was measured; its duration goes in both histograms (the
 * Collector does so for databases). Pairs waiting are bounded by `maxItems`: spans past it are
 * counted dropped. Expiry runs with each batch and at each scrape, not on a timer.
 */
import type { Component } from '../component.js';
import type { Logger } from '../logger.js';
import { idKey, isZeroId } from '../otlp/id-key.js';
import type { KeyValue, Span } from '../otlp/types.js';
import { anyValueToString, findAttribute } from '../otlp/values.js';
import type { TraceBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { GuardedObserver } from './component-metrics.js';
import { acquireFamily } from './families.js';
import { KEY_SEP, type Series, type SeriesFamily } from './series-family.js';
import { SpanDedupe } from './span-dedupe.js';
import { spanSeconds } from './span-metrics.js';
import type { Telemetry } from './telemetry.js';

export const SERVICE_GRAPH_METRICS = {
  requests: 'traces_service_graph_request_total',
  failed: 'traces_service_graph_request_failed_total',
  server: 'traces_service_graph_request_server_seconds',
  client: 'traces_service_graph_request_client_seconds',
  unpaired: 'traces_service_graph_unpaired_spans_total',
  dropped: 'traces_service_graph_dropped_spans_total',
} as const;

export type ConnectionType = '' | 'virtual_node' | 'database' | 'messaging_system';

const CONNECTION_SLOT: Record<ConnectionType, number> = { '': 0, virtual_node: 1, database: 2, messaging_system: 3 };

const KIND_SERVER = 2;
const KIND_CLIENT = 3;
const KIND_PRODUCER = 4;
const KIND_CONSUMER = 5;
const STATUS_ERROR = 2;

export interface ServiceGraphOptions {
  waitMs: number;
  maxItems: number;
  buckets: readonly number[];
  peerAttributes: readonly string[];
  maxSeries: number;
  idleTimeoutMs: number | null;
  defaultServiceName: string;
  /** A span id seen again within this window (an SDK retrying an accepted request) is not paired again; 0 spans disables it. */
  dedupeWindowMs: number;
  dedupeMaxSpans: number;
  telemetry: Telemetry;
  log: Logger;
}

/** One side or both of a client/server pair, waiting for the other. */
interface PendingEdge {
  client: string;
  server: string;
  clientSeconds: number;
  serverSeconds: number;
  failed: boolean;
  connectionType: ConnectionType;
  /** The client span's virtual server, from its peer attributes ('' when none). */
  peer: string;
  /** Monotonic ms after which the pair is given up. */
  expiresAt: number;
}

/** The totals of one edge, for the debug page. */
export interface EdgeSummary {
  client: string;
  server: string;
  connection_type: ConnectionType;
  requests: number;
  failed: number;
  server_seconds_sum: number;
  client_seconds_sum: number;
}

interface EdgeSeries {
  requests: Series;
  failed: Series;
  server: Series;
  client: Series;
}

export class ServiceGraph extends GuardedObserver<TraceBatch, 'duplicate'> implements Observer<TraceBatch>, Component {
  readonly requests: SeriesFamily;
  readonly failed: SeriesFamily;
  readonly serverSeconds: SeriesFamily;
  readonly clientSeconds: SeriesFamily;
  readonly unpaired: SeriesFamily;
  readonly dropped: SeriesFamily;
  /** Waiting pairs by trace id and client span id, oldest first (Map order is insertion order). */
  private readonly pending = new Map<string, PendingEdge>();
  private readonly edgeCache = new Map<string, Map<string, (EdgeSeries | undefined)[]>>();
  private readonly cacheGeneration = [-1, -1, -1, -1];
  private removeCollector?: () => void;
  private readonly dedupe: SpanDedupe | undefined;

  constructor(private readonly o: ServiceGraphOptions) {
    super('service_graph', o.telemetry, o.log, { duplicate: { intentional: true } });
    this.dedupe = o.dedupeMaxSpans > 0 ? new SpanDedupe(o.dedupeWindowMs, o.dedupeMaxSpans) : undefined;
    const budget = { maxSeries: o.maxSeries, idleTimeoutMs: o.idleTimeoutMs };
    const labelNames = ['client', 'server', 'connection_type'];
    this.requests = acquireFamily(o.telemetry, { ...budget, name: SERVICE_GRAPH_METRICS.requests, type: 'counter', labelNames, help: 'Requests between two services (a client span and its server span), by client, server and connection type.' });
    this.failed = acquireFamily(o.telemetry, { ...budget, name: SERVICE_GRAPH_METRICS.failed, type: 'counter', labelNames, help: 'Requests between two services where either span has status ERROR.' });
    const histogram = { ...budget, type: 'histogram' as const, labelNames, buckets: o.buckets };
    this.serverSeconds = acquireFamily(o.telemetry, { ...histogram, name: SERVICE_GRAPH_METRICS.server, help: 'Duration of requests between two services as the server span measured it, in seconds.' });
    this.clientSeconds = acquireFamily(o.telemetry, { ...histogram, name: SERVICE_GRAPH_METRICS.client, help: 'Duration of requests between two services as the client span measured it, in seconds.' });
    const sideLabels = ['client', 'server'];
    this.unpaired = acquireFamily(o.telemetry, { ...budget, name: SERVICE_GRAPH_METRICS.unpaired, type: 'counter', labelNames: sideLabels, help: 'Client or server spans whose other side did not come within service_graph.wait and named no virtual node.' });
    this.dropped = acquireFamily(o.telemetry, { ...budget, name: SERVICE_GRAPH_METRICS.dropped, type: 'counter', labelNames: sideLabels, help: 'Client or server spans not paired because service_graph.max_items pairs were already waiting.' });
  }

  get familyNames(): string[] {
    return [this.requests.name, this.failed.name, this.serverSeconds.name, this.clientSeconds.name, this.unpaired.name, this.dropped.name];
  }

  /** Pairs waiting for their other side. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Expiry at every scrape, while the graph this observer belongs to runs. */
  async start(): Promise<void> {
    this.removeCollector ??= this.o.telemetry.addCollector(() => this.expire(performance.now()));
  }

  async flush(): Promise<void> {}

  async stop(): Promise<void> {
    this.removeCollector?.();
    this.removeCollector = undefined;
  }

  protected process(batch: TraceBatch): void {
    const now = performance.now();
    this.expire(now);
    const dedupe = this.dedupe;
    dedupe?.expire(now);
    let received = 0;
    let duplicates = 0;
    for (const rs of batch.resourceSpans) {
      const service = anyValueToString(findAttribute(rs.resource?.attributes, 'service.name')) || this.o.defaultServiceName;
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          received++;
          const kind = span.kind ?? 0;
          if (kind < KIND_SERVER) continue;
          if (dedupe && span.spanId?.byteLength && span.traceId?.byteLength && !dedupe.firstSighting(span.traceId, span.spanId, now)) {
            duplicates++;
            continue;
          }
          if (kind === KIND_CLIENT || kind === KIND_PRODUCER) this.client(service, span, kind === KIND_PRODUCER, now);
          else if (kind === KIND_SERVER || kind === KIND_CONSUMER) this.server(service, span, kind === KIND_CONSUMER, now);
        }
      }
    }
    this.self.received.inc(received);
    if (duplicates > 0) this.self.discarded('duplicate').inc(duplicates);
  }

  private client(service: string, span: Span, messaging: boolean, now: number): void {
    const seconds = spanSeconds(span);
    const failed = span.status?.code === STATUS_ERROR;
    const attributes = span.attributes;
    if (!messaging && (findAttribute(attributes, 'db.system') !== undefined || findAttribute(attributes, 'db.name') !== undefined)) {
      // A database answers no span of its own: the edge is complete with the client's side.
      const server = this.peerOf(attributes, ['peer.service', 'db.name', 'db.namespace', 'db.system']);
      this.count(service, server, 'database', failed, seconds, seconds, now);
      return;
    }
    const key = pairKey(span.traceId, span.spanId);
    const e = this.pending.get(key);
    if (e) {
      this.pending.delete(key);
      this.count(service, e.server, messaging ? 'messaging_system' : e.connectionType, failed || e.failed, e.serverSeconds, seconds, now);
      return;
    }
    if (this.pending.size >= this.o.maxItems) {
      this.side(this.dropped, service, '', now);
      return;
    }
    this.pending.set(key, {
      client: service,
      server: '',
      clientSeconds: seconds,
      serverSeconds: 0,
      failed,
      connectionType: messaging ? 'messaging_system' : '',
      peer: this.peerOf(attributes, this.o.peerAttributes),
      expiresAt: now + this.o.waitMs,
    });
  }

  private server(service: string, span: Span, messaging: boolean, now: number): void {
    const seconds = spanSeconds(span);
    const failed = span.status?.code === STATUS_ERROR;
    const parent = span.parentSpanId;
    if (!parent || isZeroId(parent)) {
      // A root: nobody's client span will come; the caller is the user.
      this.count('user', service, 'virtual_node', failed, seconds, seconds, now);
      return;
    }
    const key = pairKey(span.traceId, parent);
    const e = this.pending.get(key);
    if (e) {
      this.pending.delete(key);
      this.count(e.client, service, messaging ? 'messaging_system' : e.connectionType, failed || e.failed, seconds, e.clientSeconds, now);
      return;
    }
    if (this.pending.size >= this.o.maxItems) {
      this.side(this.dropped, '', service, now);
      return;
    }
    this.pending.set(key, {
      client: '',
      server: service,
      clientSeconds: 0,
      serverSeconds: seconds,
      failed,
      connectionType: messaging ? 'messaging_system' : '',
      peer: '',
      expiresAt: now + this.o.waitMs,
    });
  }

  /** Give up the pairs that waited `wait`: virtual nodes where the client named one, else unpaired. */
  expire(now: number): void {
    for (const [key, e] of this.pending) {
      if (e.expiresAt > now) break;
      this.pending.delete(key);
      if (e.client !== '' && e.peer !== '') this.count(e.client, e.peer, 'virtual_node', e.failed, e.clientSeconds, e.clientSeconds, now);
      else this.side(this.unpaired, e.client, e.server, now);
    }
  }

  /** Every waiting pair given up now (stop, tests). */
  expireAll(): void {
    this.expire(Infinity);
  }

  private peerOf(attributes: KeyValue[] | undefined, names: readonly string[]): string {
    for (const name of names) {
      const v = findAttribute(attributes, name);
      if (v !== undefined) {
        const s = anyValueToString(v);
        if (s !== '') return s;
      }
    }
    return '';
  }

  private count(client: string, server: string, type: ConnectionType, failed: boolean, serverSeconds: number, clientSeconds: number, now: number): void {
    const s = this.edge(client, server, type, now);
    this.requests.add(s.requests, 1, now);
    if (failed) this.failed.add(s.failed, 1, now);
    this.serverSeconds.observe(s.server, serverSeconds, now);
    this.clientSeconds.observe(s.client, clientSeconds, now);
  }

  private side(family: SeriesFamily, client: string, server: string, now: number): void {
    const key = client + KEY_SEP + server;
    const s = family.find(key) ?? family.create(key, { client, server }, now);
    family.add(s, 1, now);
  }

  /**
   * The four series of an edge, cached by client, server and connection type while no family
   * removed series (as span metrics do): no key string is built for an edge seen before.
   */
  private edge(client: string, server: string, type: ConnectionType, now: number): EdgeSeries {
    const { requests, failed, serverSeconds, clientSeconds, cacheGeneration: g } = this;
    if (requests.generation !== g[0] || failed.generation !== g[1] || serverSeconds.generation !== g[2] || clientSeconds.generation !== g[3]) {
      this.edgeCache.clear();
      g[0] = requests.generation;
      g[1] = failed.generation;
      g[2] = serverSeconds.generation;
      g[3] = clientSeconds.generation;
    }
    let byServer = this.edgeCache.get(client);
    const slot = CONNECTION_SLOT[type];
    const hit = byServer?.get(server)?.[slot];
    if (hit) return hit;
    const key = client + KEY_SEP + server + KEY_SEP + type;
    const labels = { client, server, connection_type: type };
    const series: EdgeSeries = {
      requests: requests.find(key) ?? requests.create(key, labels, now),
      failed: failed.find(key) ?? failed.create(key, labels, now),
      server: serverSeconds.find(key) ?? serverSeconds.create(key, labels, now),
      client: clientSeconds.find(key) ?? clientSeconds.create(key, labels, now),
    };
    const overflow = requests.isOverflow(series.requests) || failed.isOverflow(series.failed) || serverSeconds.isOverflow(series.server) || clientSeconds.isOverflow(series.client);
    if (!overflow) {
      if (!byServer) this.edgeCache.set(client, (byServer = new Map()));
      let slots = byServer.get(server);
      if (!slots) byServer.set(server, (slots = new Array<EdgeSeries | undefined>(4)));
      slots[slot] = series;
    }
    return series;
  }

  /** The edges counted so far, busiest first (the debug page's service map). */
  edges(): EdgeSummary[] {
    this.expire(performance.now());
    const out: EdgeSummary[] = [];
    for (const [key, s] of this.requests.entries()) {
      const failed = this.failed.find(key);
      const server = this.serverSeconds.find(key);
      const client = this.clientSeconds.find(key);
      out.push({
        client: s.labels.client ?? '',
        server: s.labels.server ?? '',
        connection_type: (s.labels.connection_type ?? '') as ConnectionType,
        requests: s.value,
        failed: failed?.value ?? 0,
        server_seconds_sum: server?.sum ?? 0,
        client_seconds_sum: client?.sum ?? 0,
      });
    }
    return out.sort((a, b) => b.requests - a.requests);
  }
}

/** A Map key of a trace id and a span id: 12 UTF-16 code units, made in one call for ids of the usual sizes. */
export function pairKey(t: Uint8Array, s: Uint8Array): string {
  if (t.length !== 16 || s.length !== 8) return idKey(t) + '/' + idKey(s);
  return String.fromCharCode(
    (t[0] << 8) | t[1], (t[2] << 8) | t[3], (t[4] << 8) | t[5], (t[6] << 8) | t[7],
    (t[8] << 8) | t[9], (t[10] << 8) | t[11], (t[12] << 8) | t[13], (t[14] << 8) | t[15],
    (s[0] << 8) | s[1], (s[2] << 8) | s[3], (s[4] << 8) | s[5], (s[6] << 8) | s[7],
  );
}
