/**
 * The OTLP receivers in-process, on port 0 and a Unix socket in a temp dir, feeding a capturing
 * consumer; plus canonical forms of decoded OTLP data for field-by-field comparisons (int64 as
 * decimal strings, bytes as hex, every AnyValue tagged with its type).
 */
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import Long from 'long';
import { stringify } from 'yaml';
import type { Consumer } from '../../../src/component.js';
import { loadConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/logger.js';
import { Telemetry } from '../../../src/metrics/telemetry.js';
import type { AnyValue, KeyValue, LogRecord, Span } from '../../../src/otlp/types.js';
import type { LogBatch, MetricBatch, TraceBatch } from '../../../src/pipeline/batches.js';
import { buildOtlpReceivers } from '../../../src/receivers/otlp/index.js';
import type { Receiver } from '../../../src/receivers/receiver.js';
import { deepMerge, tempDir } from '../../helpers/cli.js';

/** Records every batch; `fail` makes the next calls reject (backpressure) until cleared. */
export class CapturingConsumer<B> implements Consumer<B> {
  readonly batches: B[] = [];
  fail?: () => Error;

  async consume(batch: B): Promise<void> {
    if (this.fail) throw this.fail();
    this.batches.push(batch);
  }
}

export interface OtlpHarness {
  dir: string;
  /** "127.0.0.1:port" of OTLP/HTTP. */
  http: string;
  /** The OTLP/HTTP Unix socket path. */
  unix: string;
  /** "127.0.0.1:port" of OTLP/gRPC. */
  grpc: string;
  traces: CapturingConsumer<TraceBatch>;
  logs: CapturingConsumer<LogBatch>;
  metrics: CapturingConsumer<MetricBatch>;
  telemetry: Telemetry;
  receivers: Receiver[];
  /** When set, the sidecar's admission check (memory guard) refuses with this error before a body is read. */
  refuseAdmission?: () => Error;
  metricValue(name: string, labels: Record<string, string>): Promise<number | undefined>;
  stop(): Promise<void>;
}

export async function startOtlp(extra: Record<string, unknown> = {}): Promise<OtlpHarness> {
  const dir = tempDir('tracetail-otlp-');
  const fileConfig = deepMerge(
    {
      receivers: {
        otlp: {
          http: { endpoint: '127.0.0.1:0' },
          grpc: { endpoint: '127.0.0.1:0' },
          unix: { path: join(dir, 'run', 'otlp.sock') },
        },
      },
      storage: { directory: join(dir, 'state') },
    },
    extra,
  );
  const config = loadConfig({ text: stringify(fileConfig), env: {} });
  const telemetry = new Telemetry({ processMetrics: false });
  const traces = new CapturingConsumer<TraceBatch>();
  const logs = new CapturingConsumer<LogBatch>();
  const metrics = new CapturingConsumer<MetricBatch>();
  let harness: OtlpHarness | undefined;
  const reserve = () => {
    const err = harness?.refuseAdmission?.();
    if (err) throw err;
    return { grow: () => undefined, release: () => undefined };
  };
  const receivers = buildOtlpReceivers({ config, log: createLogger('silent'), telemetry, consumers: { traces, logs, metrics }, reserve });
  for (const r of receivers) await r.start();
  const endpointOf = (name: string) => (receivers.find((r) => r.name === name) as (Receiver & { endpoint?: string }) | undefined)?.endpoint ?? '';
  harness = {
    dir,
    http: endpointOf('receiver/otlp-http'),
    unix: endpointOf('receiver/otlp-unix'),
    grpc: endpointOf('receiver/otlp-grpc'),
    traces,
    logs,
    metrics,
    telemetry,
    receivers,
    async metricValue(name, labels) {
      const metric = await telemetry.registry.getSingleMetric(name)?.get();
      const found = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val) && (v as { metricName?: string }).metricName !== `${name}_bucket`);
      return found?.value;
    },
    async stop() {
      for (const r of receivers) await r.stop();
    },
  };
  return harness;
}

// ---- raw HTTP clients (TCP and Unix socket) -------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The request went over a kept-alive connection of the agent. */
  reused?: boolean;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Uint8Array | string;
  agent?: http.Agent;
}

/** One request to "host:port" or to a Unix socket path (anything containing a slash). */
export function request(target: string, r: RawRequest): Promise<RawResponse> {
  const where = target.includes('/') ? { socketPath: target } : { host: target.slice(0, target.lastIndexOf(':')), port: Number(target.slice(target.lastIndexOf(':') + 1)) };
  return new Promise((resolve, reject) => {
    const req = http.request({ ...where, method: r.method ?? 'POST', path: r.path, headers: r.headers, agent: r.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** An http.Agent that connects to a Unix socket whatever the URL says (for the SDK exporters; as in the README). */
export class UnixSocketAgent extends http.Agent {
  constructor(private readonly socketPath: string) {
    super({ keepAlive: true });
  }

  override createConnection(): net.Socket {
    return net.createConnection(this.socketPath);
  }
}

// ---- canonical forms ------------------------------------------------------------------------------

export type Canon = string | number | boolean | null | Canon[] | { [k: string]: Canon };

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
/** Bytes as hex; an absent bytes field decodes to protobufjs's default (an empty array). */
const hex = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('hex') : '');
/** A decoded fixed64 (a Long, or absent for 0) as a decimal string. */
const uint64 = (v: Long | number | null | undefined) => (v === null || v === undefined ? '0' : Long.fromValue(v).toUnsigned().toString());

/** An AnyValue as { type: value }: { int: "9007199254740993" }, { double: 2 }, { bytes: "0102" }, ... */
export function canonValue(v: AnyValue | null | undefined): Canon {
  if (!v) return null;
  if (own(v, 'stringValue') && v.stringValue != null) return { string: v.stringValue };
  if (own(v, 'boolValue') && v.boolValue != null) return { bool: v.boolValue };
  if (own(v, 'intValue') && v.intValue != null) return { int: Long.fromValue(v.intValue).toString() };
  if (own(v, 'doubleValue') && v.doubleValue != null) return { double: v.doubleValue };
  if (own(v, 'bytesValue') && v.bytesValue != null) return { bytes: hex(v.bytesValue) };
  if (own(v, 'arrayValue') && v.arrayValue != null) return { array: v.arrayValue.values.map(canonValue) };
  if (own(v, 'kvlistValue') && v.kvlistValue != null) return { kvlist: canonAttributes(v.kvlistValue.values) };
  return null;
}

export function canonAttributes(list: readonly KeyValue[] | null | undefined): Canon {
  return (list ?? []).map((kv) => [kv.key, canonValue(kv.value)]);
}

export function canonSpan(s: Span): Canon {
  return {
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    traceState: s.traceState ?? '',
    flags: s.flags ?? 0,
    name: s.name,
    kind: s.kind ?? 0,
    start: uint64(s.startTimeUnixNano),
    end: uint64(s.endTimeUnixNano),
    attributes: canonAttributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount ?? 0,
    events: (s.events ?? []).map((e) => ({ time: uint64(e.timeUnixNano), name: e.name, attributes: canonAttributes(e.attributes), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
    droppedEventsCount: s.droppedEventsCount ?? 0,
    links: (s.links ?? []).map((l) => ({
      traceId: hex(l.traceId),
      spanId: hex(l.spanId),
      traceState: l.traceState ?? '',
      attributes: canonAttributes(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
      flags: l.flags ?? 0,
    })),
    droppedLinksCount: s.droppedLinksCount ?? 0,
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
  };
}

export function canonLogRecord(r: LogRecord): Canon {
  return {
    time: uint64(r.timeUnixNano),
    observedTime: uint64(r.observedTimeUnixNano),
    severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '',
    body: canonValue(r.body),
    attributes: canonAttributes(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount ?? 0,
    flags: r.flags ?? 0,
    traceId: hex(r.traceId),
    spanId: hex(r.spanId),
    eventName: r.eventName ?? '',
  };
}

interface ScopeLike {
  scope?: { name?: string; version?: string; attributes?: KeyValue[]; droppedAttributesCount?: number } | null;
  schemaUrl?: string;
}
interface ResourceLike {
  resource?: { attributes: KeyValue[]; droppedAttributesCount?: number } | null;
  schemaUrl?: string;
}

export function canonScope(s: ScopeLike): Canon {
  return {
    name: s.scope?.name ?? '',
    version: s.scope?.version ?? '',
    attributes: canonAttributes(s.scope?.attributes),
    droppedAttributesCount: s.scope?.droppedAttributesCount ?? 0,
    schemaUrl: s.schemaUrl ?? '',
  };
}

export function canonResource(r: ResourceLike): Canon {
  return { attributes: canonAttributes(r.resource?.attributes), droppedAttributesCount: r.resource?.droppedAttributesCount ?? 0, schemaUrl: r.schemaUrl ?? '' };
}

/** Every span of the captured batches as { resource, scope, span } in canonical form. */
export function capturedSpans(batches: readonly TraceBatch[]): { resource: Canon; scope: Canon; span: Canon }[] {
  return batches.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ resource: canonResource(rs), scope: canonScope(ss), span: canonSpan(s) })))));
}

export function capturedLogRecords(batches: readonly LogBatch[]): { resource: Canon; scope: Canon; record: Canon }[] {
  return batches.flatMap((b) => b.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => ({ resource: canonResource(rl), scope: canonScope(sl), record: canonLogRecord(r) })))));
}
