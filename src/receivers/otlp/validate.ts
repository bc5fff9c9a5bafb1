/**
 * What the receivers refuse inside an otherwise decodable request (answered as a partial
 * success; everything else in the request is kept unchanged):
 *
 * - a span whose `trace_id` is not 16 bytes or is all zero, whose `span_id` is not 8 bytes or is
 *   all zero (the OTel trace spec calls these invalid, and backends drop them), or whose
 *   `parent_span_id` is neither empty nor 8 bytes;
 * - a log record whose `trace_id` is neither empty nor 16 bytes, or whose `span_id` is neither
 *   empty nor 8 bytes (empty means "no trace context", which is fine for logs).
 *
 * Links are not checked: a link with a malformed id is kept as sent. The check loops over the
 * items without allocating; only a request that has something to reject is rebuilt.
 */
import type { ExportLogsServiceRequest, ExportTraceServiceRequest, LogRecord, Span } from '../../otlp/types.js';

export interface Rejection {
  rejected: number;
  /** Why the first rejected item was refused, for the partial success message. */
  firstReason: string;
}

export function rejectInvalidSpans(req: ExportTraceServiceRequest): Rejection | undefined {
  return rejectWhere(
    req.resourceSpans.flatMap((rs) => rs.scopeSpans),
    (ss) => ss.spans,
    (ss, kept) => (ss.spans = kept),
    (span) => {
      const reason = invalidSpan(span);
      return reason && `span ${JSON.stringify(span.name)}: ${reason}`;
    },
  );
}

export function rejectInvalidLogRecords(req: ExportLogsServiceRequest): Rejection | undefined {
  return rejectWhere(
    req.resourceLogs.flatMap((rl) => rl.scopeLogs),
    (sl) => sl.logRecords,
    (sl, kept) => (sl.logRecords = kept),
    (record, i) => {
      const reason = invalidLogRecord(record);
      return reason && `log record ${i} of its scope: ${reason}`;
    },
  );
}

/** Drop the items `invalid` finds a reason for; a group's list is replaced only when it loses some. */
function rejectWhere<G, T>(groups: readonly G[], items: (g: G) => T[], replace: (g: G, kept: T[]) => void, invalid: (item: T, index: number) => string | undefined): Rejection | undefined {
  let rejection: Rejection | undefined;
  for (const group of groups) {
    const list = items(group);
    let kept: T[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const reason = invalid(list[i], i);
      if (reason === undefined) {
        kept?.push(list[i]);
        continue;
      }
      kept ??= list.slice(0, i);
      rejection ??= { rejected: 0, firstReason: reason };
      rejection.rejected++;
    }
    if (kept) replace(group, kept);
  }
  return rejection;
}

function invalidSpan(span: Span): string | undefined {
  if (!validId(span.traceId, 16)) return `trace_id must be 16 bytes, not all zero (got ${describeId(span.traceId)})`;
  if (!validId(span.spanId, 8)) return `span_id must be 8 bytes, not all zero (got ${describeId(span.spanId)})`;
  const parent = span.parentSpanId;
  if (parent && parent.length !== 0 && parent.length !== 8) return `parent_span_id must be empty or 8 bytes (got ${describeId(parent)})`;
  return undefined;
}

function invalidLogRecord(record: LogRecord): string | undefined {
  const t = record.traceId;
  if (t && t.length !== 0 && t.length !== 16) return `trace_id must be empty or 16 bytes (got ${describeId(t)})`;
  const s = record.spanId;
  if (s && s.length !== 0 && s.length !== 8) return `span_id must be empty or 8 bytes (got ${describeId(s)})`;
  return undefined;
}

function validId(id: Uint8Array | null | undefined, length: number): boolean {
  if (!id || id.length !== length) return false;
  for (let i = 0; i < length; i++) if (id[i] !== 0) return true;
  return false;
}

function describeId(id: Uint8Array | null | undefined): string {
  if (!id || id.length === 0) return 'none';
  const hex = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
  return `${id.length} bytes ${hex.length > 40 ? `${hex.slice(0, 40)}...` : hex}`;
}
