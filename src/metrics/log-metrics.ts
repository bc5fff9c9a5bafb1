/**
 * `tracetail_log_records_total{service_name, severity, trace_context}` with an exemplar carrying the
 * trace id of a recent record that had one, so an error-log spike links straight to a trace.
 * `severity` is one of a fixed set (the OTel log data model's ranges), so the label stays bounded
 * whatever level names the app writes.
 */
import type { Logger } from '../logger.js';
import type { LogRecord } from '../otlp/types.js';
import { anyValueToString, findAttribute } from '../otlp/values.js';
import type { LogBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { GuardedObserver } from './component-metrics.js';
import { acquireFamily } from './families.js';
import { KEY_SEP, type SeriesFamily } from './series-family.js';
import type { Telemetry } from './telemetry.js';

export const LOG_RECORDS_METRIC = 'tracetail_log_records_total';
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

export interface LogMetricsOptions {
  maxSeries: number;
  idleTimeoutMs: number | null;
  /** `service.name` for records whose resource carries none; its series exist from start-up. */
  defaultServiceName: string;
  telemetry: Telemetry;
  log: Logger;
}

export class LogMetrics extends GuardedObserver<LogBatch> implements Observer<LogBatch> {
  readonly records: SeriesFamily;

  constructor(private readonly o: LogMetricsOptions) {
    super('log_metrics', o.telemetry, o.log, {});
    this.records = acquireFamily(o.telemetry, {
      name: LOG_RECORDS_METRIC,
      help: 'Log records by service, severity and whether they carry trace context (present or absent).',
      type: 'counter',
      labelNames: ['service_name', 'severity', 'trace_context'],
      exemplars: true,
      maxSeries: o.maxSeries,
      idleTimeoutMs: o.idleTimeoutMs,
    });
    const now = performance.now();
    for (const severity of SEVERITIES) {
      for (const context of ['present', 'absent']) {
        const service = o.defaultServiceName;
        this.records.pin(service + KEY_SEP + severity + KEY_SEP + context, { service_name: service, severity, trace_context: context }, now);
      }
    }
  }

  protected process(batch: LogBatch): void {
    const now = performance.now();
    const unix = Date.now() / 1000;
    const family = this.records;
    let received = 0;
    for (const rl of batch.resourceLogs) {
      const service = anyValueToString(findAttribute(rl.resource?.attributes, 'service.name')) || this.o.defaultServiceName;
      for (const sl of rl.scopeLogs) {
        for (const record of sl.logRecords) {
          received++;
          const severity = severityOf(record);
          const present = hasTraceContext(record);
          const key = service + KEY_SEP + severity + KEY_SEP + (present ? 'present' : 'absent');
          const s = family.find(key) ?? family.create(key, { service_name: service, severity, trace_context: present ? 'present' : 'absent' }, now);
          family.add(s, 1, now);
          if (present) family.exemplar(s, 0, 1, record.traceId!, record.spanId, now, unix);
        }
      }
    }
    this.self.received.inc(received);
  }
}
