/** What stages hand each other: batches, never single records. */
import type { ResourceLogs, ResourceSpans } from '../otlp/types.js';
import type { Checkpoint } from '../storage/store.js';

export interface LogBatch {
  resourceLogs: ResourceLogs[];
  /** File offsets reached by the records in this batch; committed with them, atomically. */
  checkpoints?: Checkpoint[];
  /** Where the batch came from, for metrics: "file", "http", "unix", "grpc". */
  transport: string;
}

export interface TraceBatch {
  resourceSpans: ResourceSpans[];
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
