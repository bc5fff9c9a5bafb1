/**
 * Severity as a bounded label value (the OTel log data model's SeverityNumber ranges, then common
 * level names), and whether a record carries trace context: shared by the log metrics, the trace
 * index and the debug API.
 */
import type { LogRecord } from './types.js';

export const SEVERITIES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unspecified'] as const;
export type Severity = (typeof SEVERITIES)[number];

const SEVERITY_TEXT: Record<string, Severity> = {
  trace: 'trace',
  finest: 'trace',
  finer: 'trace',
  debug: 'debug',
  fine: 'debug',
  verbose: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  config: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  severe: 'error',
  fatal: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  panic: 'fatal',
};

/** The record's severity as a bounded label value: SeverityNumber ranges first, then the text. */
export function severityOf(record: Pick<LogRecord, 'severityNumber' | 'severityText'>): Severity {
  const n = record.severityNumber ?? 0;
  if (n >= 1 && n <= 24) return SEVERITIES[Math.floor((n - 1) / 4)];
  const text = record.severityText;
  return (text && SEVERITY_TEXT[text.toLowerCase()]) || 'unspecified';
}

export function hasTraceContext(record: Pick<LogRecord, 'traceId'>): boolean {
  const id = record.traceId;
  if (!id || id.byteLength !== 16) return false;
  for (let i = 0; i < 16; i++) if (id[i] !== 0) return true;
  return false;
}
