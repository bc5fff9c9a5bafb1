/**
 * `tracetail_log_records_total{service_name, severity, trace_context}` with an exemplar carrying the
 * trace id of a recent record that had one, so an error-log spike links straight to a trace.
 * `severity` is one of a fixed set (the OTel log data model's ranges), so the label stays bounded
 * whatever level names the app writes. `tracetail_log_file_records_total{path, severity}` counts
 * the records read from each log file.
 */
import type { Logger } from '../logger.js';
import type { KeyValue, LogRecord } from '../otlp/types.js';
import { anyValueToString, findAttribute } from '../otlp/values.js';
import type { LogBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { hasTraceContext, SEVERITIES, severityOf, type Severity } from '../otlp/severity.js';
import { GuardedObserver } from './component-metrics.js';
import { METRICS } from './catalogue.js';
import { acquireFamily, familyOf } from './families.js';
import { KEY_SEP, type SeriesFamily } from './series-family.js';
import type { Telemetry } from './telemetry.js';

/** The transport of batches the file receiver builds. */
const FILE_TRANSPORT = 'file';
const FILE_PATH_ATTRIBUTE = 'log.file.path';
export interface LogMetricsOptions {
  maxSeries: number;
  idleTimeoutMs: number | null;
  /**
   * `service.name` for records whose resource carries none; its series exist from start-up, unless
   * it is `unknown_service` (none configured: the records take the name of the app's spans, and a
   * service that does not exist should not show up at 0).
   */
  defaultServiceName: string;
  telemetry: Telemetry;
  log: Logger;
}

export class LogMetrics extends GuardedObserver<LogBatch> implements Observer<LogBatch> {
  readonly records: SeriesFamily;
  readonly fileRecords: SeriesFamily;

  constructor(private readonly o: LogMetricsOptions) {
    super('log_metrics', o.telemetry, o.log, {});
    this.records = acquireFamily(o.telemetry, {
      ...familyOf(METRICS.logRecords),
      exemplars: true,
      maxSeries: o.maxSeries,
      idleTimeoutMs: o.idleTimeoutMs,
    });
    this.fileRecords = acquireFamily(o.telemetry, {
      ...familyOf(METRICS.logFileRecords),
      maxSeries: o.maxSeries,
      idleTimeoutMs: o.idleTimeoutMs,
    });
    const now = performance.now();
    const service = o.defaultServiceName;
    if (service.startsWith('unknown_service')) return;
    for (const severity of SEVERITIES) {
      for (const context of ['present', 'absent']) {
        this.records.pin(service + KEY_SEP + severity + KEY_SEP + context, { service_name: service, severity, trace_context: context }, now);
      }
    }
  }

  protected process(batch: LogBatch): void {
    const now = performance.now();
    const unix = Date.now() / 1000;
    const family = this.records;
    const byFile = batch.transport === FILE_TRANSPORT ? new FileCounts() : undefined;
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
          byFile?.count(record, severity);
        }
      }
    }
    if (byFile) this.addFileCounts(byFile, now);
    this.self.received.inc(received);
  }

  private addFileCounts(counts: FileCounts, now: number): void {
    const family = this.fileRecords;
    for (const [path, bySeverity] of counts.paths) {
      for (const [severity, n] of bySeverity) {
        const key = path + KEY_SEP + severity;
        family.add(family.find(key) ?? family.create(key, { path, severity }, now), n, now);
      }
    }
  }
}

/**
 * Records per file and severity within one batch: the file is the record's `logFile` (records read
 * by the file receiver; those of one file share the object), else its `log.file.path` attribute. A
 * run of records of one file looks its path up once.
 */
class FileCounts {
  readonly paths = new Map<string, Map<Severity, number>>();
  private last: NonNullable<LogRecord['logFile']> | KeyValue | undefined;
  private lastCounts: Map<Severity, number> | undefined;

  count(record: LogRecord, severity: Severity): void {
    const file = record.logFile ?? pathAttribute(record.attributes);
    if (file === undefined) return;
    if (file !== this.last) {
      this.last = file;
      const path = 'path' in file ? file.path : anyValueToString(file.value);
      let counts = this.paths.get(path);
      if (!counts) this.paths.set(path, (counts = new Map()));
      this.lastCounts = counts;
    }
    const counts = this.lastCounts!;
    counts.set(severity, (counts.get(severity) ?? 0) + 1);
  }
}

/** The `log.file.path` attribute, looked for from the end (it is followed by `log.file.name` and perhaps `tracetail.truncated`). */
function pathAttribute(attributes: readonly KeyValue[] | undefined): KeyValue | undefined {
  if (!attributes) return undefined;
  for (let i = attributes.length - 1; i >= 0; i--) if (attributes[i].key === FILE_PATH_ATTRIBUTE) return attributes[i];
  return undefined;
}
