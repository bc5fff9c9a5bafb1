/** The pipelines' encoders: a trace or log batch encoded once, with where each item lies. */
import { encodeLogsRequest, encodeTraceRequest } from '../otlp/request-encoder.js';
import type { LogBatch, TraceBatch } from './batches.js';

export function encodeLogBatch(batch: LogBatch): LogBatch {
  if (batch.encoded !== undefined || batch.resourceLogs.length === 0) return batch;
  const encodedItems: number[] = [];
  return { ...batch, encoded: encodeLogsRequest({ resourceLogs: batch.resourceLogs }, encodedItems), encodedItems };
}

export function encodeTraceBatch(batch: TraceBatch): TraceBatch {
  if (batch.encoded !== undefined || batch.resourceSpans.length === 0) return batch;
  const encodedItems: number[] = [];
  return { ...batch, encoded: encodeTraceRequest({ resourceSpans: batch.resourceSpans }, encodedItems), encodedItems };
}
