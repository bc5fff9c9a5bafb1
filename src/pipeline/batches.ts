/** What stages hand each other: batches, never single records. */
import type { ResourceLogs, ResourceSpans } from '../otlp/types.js';
import type { Checkpoint } from './checkpoints.js';

/** The log file a record was read from. */
export interface LogFile {
  path: string;
  name: string;
}

/** One record: a line, or a multiline group (lines joined with "\n"). */
export interface RawRecord {
  text: string;
  /** Offset just past the last line of the record. */
  end: number;
  truncated: boolean;
}

/** Records as a source cut them from one file, not parsed yet. */
export interface FileRecords {
  file: LogFile;
  records: RawRecord[];
}

/**
 * What the file receiver hands on: raw records by file, with the checkpoints of every file they
 * come from (committed with the records, atomically). The parse stage makes a LogBatch of it.
 */
export interface RawLogBatch {
  files: FileRecords[];
  checkpoints: Checkpoint[];
}

export interface LogBatch {
  resourceLogs: ResourceLogs[];
  /** The records as one encoded ExportLogsServiceRequest (see TraceBatch.encoded). */
  encoded?: Uint8Array;
  /** Where each record's LogRecord message lies in `encoded` (see TraceBatch.encodedItems). */
  encodedItems?: readonly number[];
  /** File offsets reached by the records in this batch; committed with them, atomically. */
  checkpoints?: Checkpoint[];
  /** Where the batch came from, for metrics: "file", "http", "unix", "grpc". */
  transport: string;
}

export interface TraceBatch {
  resourceSpans: ResourceSpans[];
  /**
   * The same spans as an encoded ExportTraceServiceRequest, exactly as received (an OTLP protobuf
   * request, after decompression), so the queue writer can store it instead of encoding
   * `resourceSpans` again. Whoever sets it vouches that it holds exactly `resourceSpans`: the OTLP
   * ingest leaves it unset when it removed spans (invalid ids) and for JSON requests. It may also
   * hold fields the client sent that tracetail does not know (they go on to the backend, which
   * ignores unknown fields). The pipeline drops it before its processors run (see Pipeline), so a
   * processor that changes spans never has stale bytes exported in their place.
   */
  encoded?: Uint8Array;
  /**
   * Where each span's Span message lies in `encoded`: `[start, end)` pairs, in the order of the
   * spans. The trace index keeps a span as a copy of those bytes.
   */
  encodedItems?: readonly number[];
  transport: string;
}

/** OTLP metrics from the app are forwarded as received: an encoded ExportMetricsServiceRequest. */
export interface MetricBatch {
  payload: Uint8Array;
  items: number;
  transport: string;
}

export interface BatchOf {
  traces: TraceBatch;
  logs: LogBatch;
  metrics: MetricBatch;
}
