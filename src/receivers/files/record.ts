/** Interim record builder (the full one lands with the parse branch). */
import Long from 'long';
import type { LogRecord } from '../../otlp/types.js';
import { keyValue } from '../../otlp/values.js';
import { TRUNCATED_ATTRIBUTE, type ParsedLine, type RawRecord } from './types.js';

export function toLogRecord(line: ParsedLine, raw: RawRecord, file: { path: string; name: string }, observedUnixNano: bigint): LogRecord {
  const attributes = [keyValue('log.file.path', file.path), keyValue('log.file.name', file.name)];
  if (raw.truncated) attributes.push(keyValue(TRUNCATED_ATTRIBUTE, true));
  return {
    observedTimeUnixNano: Long.fromString(observedUnixNano.toString()),
    body: { stringValue: line.body },
    attributes,
    traceId: line.traceId ?? null,
    spanId: line.spanId ?? null,
    flags: line.traceFlags ?? 0,
  };
}
