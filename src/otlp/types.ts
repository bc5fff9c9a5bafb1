/**
 * The internal model is OTLP itself: the shapes below are what protobufjs decodes (and encodes
 * back unchanged). int64/fixed64 values are `Long`s, never JS numbers, so nothing beyond 2^53 is
 * lost; an AnyValue keeps its exact type. Fields at their proto3 default may be absent.
 */
import type Long from 'long';

export type { Long };

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Long | null;
  doubleValue?: number | null;
  arrayValue?: { values: AnyValue[] } | null;
  kvlistValue?: { values: KeyValue[] } | null;
  bytesValue?: Uint8Array | null;
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

/** A reference from a resource to an entity it describes (OTLP 1.5+). */
export interface EntityRef {
  schemaUrl?: string | null;
  type?: string | null;
  idKeys?: string[] | null;
  descriptionKeys?: string[] | null;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  entityRefs?: EntityRef[];
}

export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name: string;
  kind?: number;
  startTimeUnixNano: Long;
  endTimeUnixNano: Long;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  events?: { timeUnixNano: Long; name: string; attributes?: KeyValue[]; droppedAttributesCount?: number }[];
  droppedEventsCount?: number;
  links?: { traceId: Uint8Array; spanId: Uint8Array; traceState?: string; attributes?: KeyValue[]; droppedAttributesCount?: number; flags?: number }[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number } | null;
}

export type SpanEvent = NonNullable<Span['events']>[number];
export type SpanLink = NonNullable<Span['links']>[number];
export type SpanStatus = NonNullable<Span['status']>;

export interface ScopeSpans {
  scope?: InstrumentationScope | null;
  spans: Span[];
  schemaUrl?: string;
}

export interface ResourceSpans {
  resource?: Resource | null;
  scopeSpans: ScopeSpans[];
  schemaUrl?: string;
}

export interface LogRecord {
  timeUnixNano?: Long | null;
  observedTimeUnixNano?: Long | null;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue | null;
  attributes?: KeyValue[];
  /**
   * The attributes already encoded (LogRecord field 6, as attribute-writer.ts writes them): records
   * read from files carry them so, and the encoder copies them instead of encoding `attributes`.
   */
  encodedAttributes?: Uint8Array | null;
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  eventName?: string;
  /**
   * The file a record was read from, as its `log.file.path` and `log.file.name` attributes say
   * (records of one file share the object); not a field of the protocol: never encoded.
   */
  logFile?: { readonly path: string; readonly name: string };
}

export interface ScopeLogs {
  scope?: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl?: string;
}

export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl?: string;
}

export interface ExportTraceServiceRequest {
  resourceSpans: ResourceSpans[];
}

export interface ExportLogsServiceRequest {
  resourceLogs: ResourceLogs[];
}

/** Metrics are forwarded, not interpreted: only the envelope is typed. */
export interface ExportMetricsServiceRequest {
  resourceMetrics: { resource?: Resource | null; scopeMetrics: unknown[]; schemaUrl?: string }[];
}

export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}
