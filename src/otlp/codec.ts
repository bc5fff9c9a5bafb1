/**
 * OTLP encoding and decoding, protobuf and JSON (opentelemetry-proto docs/specification.md):
 * JSON ids are hex, int64 are decimal strings (numbers accepted), enums are integers, unknown
 * fields are ignored. Decoded requests re-encode to the same data: nothing is converted to JS
 * numbers on the way.
 */
import protobuf from 'protobufjs';
import type { Signal } from './signals.js';
import { DecodeError } from '../errors.js';
import { FastReader } from './fast-reader.js';
import { otlpRoot } from './proto-root.js';
import { decodeLogsRequest, decodeTraceRequest } from './request-decoder.js';
import { encodeLogsRequest, encodeTraceRequest } from './request-encoder.js';
import type {
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  PartialSuccess,
} from './types.js';

export type WireFormat = 'protobuf' | 'json';

export interface RequestOf {
  traces: ExportTraceServiceRequest;
  logs: ExportLogsServiceRequest;
  metrics: ExportMetricsServiceRequest;
}

export { otlpRoot };

const SERVICE: Record<Signal, { pkg: string; name: string; rejectedField: string }> = {
  traces: { pkg: 'opentelemetry.proto.collector.trace.v1', name: 'Trace', rejectedField: 'rejectedSpans' },
  logs: { pkg: 'opentelemetry.proto.collector.logs.v1', name: 'Logs', rejectedField: 'rejectedLogRecords' },
  metrics: { pkg: 'opentelemetry.proto.collector.metrics.v1', name: 'Metrics', rejectedField: 'rejectedDataPoints' },
};

export const requestType: Record<Signal, protobuf.Type> = {
  traces: otlpRoot.lookupType(`${SERVICE.traces.pkg}.ExportTraceServiceRequest`),
  logs: otlpRoot.lookupType(`${SERVICE.logs.pkg}.ExportLogsServiceRequest`),
  metrics: otlpRoot.lookupType(`${SERVICE.metrics.pkg}.ExportMetricsServiceRequest`),
};

export const responseType: Record<Signal, protobuf.Type> = {
  traces: otlpRoot.lookupType(`${SERVICE.traces.pkg}.ExportTraceServiceResponse`),
  logs: otlpRoot.lookupType(`${SERVICE.logs.pkg}.ExportLogsServiceResponse`),
  metrics: otlpRoot.lookupType(`${SERVICE.metrics.pkg}.ExportMetricsServiceResponse`),
};

/** The gRPC service path of a signal, e.g. `/opentelemetry.proto.collector.trace.v1.TraceService/Export`. */
export function grpcMethodPath(signal: Signal): string {
  const s = SERVICE[signal];
  return `/${s.pkg}.${s.name}Service/Export`;
}

// ---- ids: bytes in protobuf, hex in JSON ------------------------------------------------------

type IdConvert = (value: unknown, field: string) => unknown;

/** Apply `convert` to every trace/span id field of a plain OTLP request object, in place. */
function mapIds(signal: Signal, req: Record<string, unknown>, convert: IdConvert): void {
  const each = (list: unknown, fn: (item: Record<string, unknown>) => void) => {
    if (Array.isArray(list)) for (const item of list) if (item && typeof item === 'object') fn(item as Record<string, unknown>);
  };
  const ids = (o: Record<string, unknown>, fields: string[]) => {
    for (const f of fields) if (o[f] !== undefined && o[f] !== null) o[f] = convert(o[f], f);
  };
  if (signal === 'traces') {
    each(req.resourceSpans, (rs) =>
      each(rs.scopeSpans, (ss) =>
        each(ss.spans, (span) => {
          ids(span, ['traceId', 'spanId', 'parentSpanId']);
          each(span.links, (link) => ids(link, ['traceId', 'spanId']));
        }),
      ),
    );
  } else if (signal === 'logs') {
    each(req.resourceLogs, (rl) => each(rl.scopeLogs, (sl) => each(sl.logRecords, (lr) => ids(lr, ['traceId', 'spanId']))));
  } else {
    each(req.resourceMetrics, (rm) =>
      each(rm.scopeMetrics, (sm) =>
        each(sm.metrics, (m) => {
          for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
            const data = m[kind] as Record<string, unknown> | undefined;
            if (data) each(data.dataPoints, (dp) => each(dp.exemplars, (ex) => ids(ex, ['traceId', 'spanId'])));
          }
        }),
      ),
    );
  }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hexToBytes(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !HEX_RE.test(value)) {
    throw new DecodeError(`${field}: expected a hex string, got ${JSON.stringify(value)}`);
  }
  return Buffer.from(value, 'hex');
}

function base64ToHex(value: unknown): unknown {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

// ---- requests ---------------------------------------------------------------------------------

/** `itemRanges`, when given, gets where each span or log record lies in a protobuf `body` ([start, end) pairs). */
export function decodeRequest<S extends Signal>(signal: S, body: Uint8Array, format: WireFormat, itemRanges?: number[]): RequestOf[S] {
  if (format === 'protobuf') {
    // Traces and logs have hand-written decoders (the ingest hot path); they throw DecodeErrors.
    if (signal === 'traces') return decodeTraceRequest(asBuffer(body), itemRanges) as RequestOf[S];
    if (signal === 'logs') return decodeLogsRequest(asBuffer(body), itemRanges) as RequestOf[S];
    try {
      return requestType[signal].decode(new FastReader(asBuffer(body))) as unknown as RequestOf[S];
    } catch (err) {
      if (err instanceof DecodeError) throw err;
      throw new DecodeError(`invalid protobuf: ${(err as Error).message}`);
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new DecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  return fromJsonObject(signal, obj);
}

/** An OTLP JSON request already parsed with JSON.parse. */
export function fromJsonObject<S extends Signal>(signal: S, obj: unknown): RequestOf[S] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new DecodeError('invalid OTLP JSON: expected an object at the top level');
  }
  mapIds(signal, obj as Record<string, unknown>, hexToBytes);
  try {
    return requestType[signal].fromObject(obj) as unknown as RequestOf[S];
  } catch (err) {
    throw new DecodeError(`invalid OTLP JSON: ${(err as Error).message}`);
  }
}

export function encodeRequest<S extends Signal>(signal: S, req: RequestOf[S]): Uint8Array {
  // Traces and logs have hand-written encoders (every exported batch goes through them).
  if (signal === 'traces') return encodeTraceRequest(req as ExportTraceServiceRequest);
  if (signal === 'logs') return encodeLogsRequest(req as ExportLogsServiceRequest);
  return requestType[signal].encode(req as unknown as protobuf.Message).finish();
}

/** The OTLP JSON object of a request (hex ids, int64 as strings, enums as numbers). */
export function toJsonObject<S extends Signal>(signal: S, req: RequestOf[S]): Record<string, unknown> {
  const type = requestType[signal];
  const message = req instanceof protobuf.Message ? req : type.fromObject(req as object);
  const obj = type.toObject(message, { longs: String, enums: Number, bytes: String, json: true });
  mapIds(signal, obj, base64ToHex);
  return obj;
}

export function encodeRequestAs<S extends Signal>(signal: S, req: RequestOf[S], format: WireFormat): Uint8Array {
  return format === 'protobuf' ? encodeRequest(signal, req) : Buffer.from(JSON.stringify(toJsonObject(signal, req)));
}

// ---- responses --------------------------------------------------------------------------------

export function encodeResponse(signal: Signal, partial: PartialSuccess | undefined, format: WireFormat): Uint8Array {
  const body: Record<string, unknown> = {};
  if (partial && (partial.rejected > 0 || partial.errorMessage)) {
    body.partialSuccess = { [SERVICE[signal].rejectedField]: String(partial.rejected), errorMessage: partial.errorMessage };
  }
  if (format === 'json') return Buffer.from(JSON.stringify(body));
  return responseType[signal].encode(responseType[signal].fromObject(body)).finish();
}

/** The partial success a backend reported, or undefined for a full success (empty body included). */
export function decodeResponse(signal: Signal, body: Uint8Array, format: WireFormat): PartialSuccess | undefined {
  if (body.byteLength === 0) return undefined;
  let obj: Record<string, unknown>;
  if (format === 'json') {
    obj = JSON.parse(Buffer.from(body).toString('utf8')) as Record<string, unknown>;
  } else {
    const t = responseType[signal];
    obj = t.toObject(t.decode(body), { longs: Number }) as Record<string, unknown>;
  }
  const ps = obj.partialSuccess as Record<string, unknown> | undefined;
  if (!ps) return undefined;
  const rejected = Number(ps[SERVICE[signal].rejectedField] ?? 0);
  const errorMessage = String(ps.errorMessage ?? '');
  if (rejected === 0 && !errorMessage) return undefined;
  return { rejected, errorMessage };
}

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

// ---- errors (google.rpc.Status) ---------------------------------------------------------------

/** gRPC status codes used in OTLP error responses (the HTTP body carries them too). */
export const RpcCode = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;

export interface RpcStatus {
  code: number;
  message: string;
  /** Sent as a google.rpc.RetryInfo detail: when the client may try again. */
  retryAfterMs?: number;
}

const statusType = otlpRoot.lookupType('google.rpc.Status');
const retryInfoType = otlpRoot.lookupType('google.rpc.RetryInfo');
const RETRY_INFO_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * A google.rpc.Status: the body of OTLP/HTTP error responses (in the request's encoding) and the
 * `grpc-status-details-bin` of gRPC errors.
 */
export function encodeStatus(status: RpcStatus, format: WireFormat): Uint8Array {
  const delay = status.retryAfterMs === undefined ? undefined : { seconds: Math.floor(status.retryAfterMs / 1000), nanos: (status.retryAfterMs % 1000) * 1e6 };
  if (format === 'json') {
    const details = delay ? [{ '@type': RETRY_INFO_URL, retryDelay: `${status.retryAfterMs! / 1000}s` }] : undefined;
    return Buffer.from(JSON.stringify({ code: status.code, message: status.message, details }));
  }
  const details = delay ? [{ typeUrl: RETRY_INFO_URL, value: retryInfoType.encode(retryInfoType.fromObject({ retryDelay: delay })).finish() }] : [];
  return statusType.encode(statusType.fromObject({ code: status.code, message: status.message, details })).finish();
}

export function decodeStatus(body: Uint8Array): RpcStatus {
  const obj = statusType.toObject(statusType.decode(body), { longs: Number, defaults: true }) as { code: number; message: string; details: { typeUrl: string; value: Uint8Array }[] };
  const retry = obj.details.find((d) => d.typeUrl === RETRY_INFO_URL);
  if (!retry) return { code: obj.code, message: obj.message };
  const info = retryInfoType.toObject(retryInfoType.decode(retry.value), { longs: Number, defaults: true }) as { retryDelay?: { seconds: number; nanos: number } };
  const d = info.retryDelay ?? { seconds: 0, nanos: 0 };
  return { code: obj.code, message: obj.message, retryAfterMs: d.seconds * 1000 + Math.round(d.nanos / 1e6) };
}

// ---- counting ---------------------------------------------------------------------------------

// Field numbers on the path ExportMetricsServiceRequest → data points.
const F_RESOURCE_METRICS = 1;
const F_SCOPE_METRICS = 2;
const F_METRICS = 2;
const METRIC_DATA_FIELDS = new Set([5, 7, 9, 10, 11]); // gauge, sum, histogram, exponential_histogram, summary
const F_DATA_POINTS = 1;
const WIRE_LEN = 2;

/**
 * The number of data points in an encoded ExportMetricsServiceRequest, without decoding it: metrics
 * are forwarded as received, but the queue counts items. Walks only the nesting down to the data
 * points and checks its framing; throws DecodeError for a body that is not such a request.
 */
export function countMetricDataPoints(body: Uint8Array): number {
  const r = protobuf.Reader.create(body);
  try {
    let n = 0;
    walk(r, r.len, F_RESOURCE_METRICS, (end) =>
      walk(r, end, F_SCOPE_METRICS, (end) =>
        walk(r, end, F_METRICS, (end) =>
          walk(r, end, METRIC_DATA_FIELDS, (end) =>
            walk(r, end, F_DATA_POINTS, (end) => {
              n++;
              r.pos = end;
            }),
          ),
        ),
      ),
    );
    return n;
  } catch (err) {
    throw new DecodeError(`invalid protobuf: ${(err as Error).message}`);
  }
}

/** Visit the length-delimited fields numbered `want` of the message ending at `end`; skip the rest. */
function walk(r: protobuf.Reader, end: number, want: number | Set<number>, visit: (end: number) => void): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw new Error(`illegal field number 0 at byte ${r.pos}`);
    if (wire === WIRE_LEN && (typeof want === 'number' ? field === want : want.has(field))) {
      const len = r.uint32();
      const childEnd = r.pos + len;
      if (childEnd > end) throw new Error(`length ${len} at byte ${r.pos} runs past the end of its message`);
      visit(childEnd);
      if (r.pos !== childEnd) throw new Error(`message ending at byte ${childEnd} is malformed`);
    } else {
      r.skipType(wire);
    }
  }
  if (r.pos !== end) throw new Error(`a field runs past the end of its message at byte ${end}`);
}

export function countItems<S extends Signal>(signal: S, req: RequestOf[S]): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (req as ExportTraceServiceRequest).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  } else if (signal === 'logs') {
    for (const rl of (req as ExportLogsServiceRequest).resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  } else {
    for (const rm of (req as ExportMetricsServiceRequest).resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics as { metrics?: Record<string, { dataPoints?: unknown[] } | undefined>[] }[]) {
        for (const m of sm.metrics ?? []) {
          const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
          n += data?.dataPoints?.length ?? 0;
        }
      }
    }
  }
  return n;
}
