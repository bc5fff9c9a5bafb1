/**
 * The parse stage of file logs: raw records as the file receiver cut them become OTLP log
 * records. Each record's text is parsed per `logs.format`, its trace context extracted, and the
 * record built with its file's attributes; the batch goes on with its checkpoints untouched.
 */
import type { Consumer } from '../../component.js';
import { keyValue } from '../../otlp/values.js';
import type { LogRecord } from '../../otlp/types.js';
import type { LogBatch, RawLogBatch } from '../../pipeline/batches.js';
import type { ProcessorContext } from '../../pipeline/pipeline.js';
import { traceContextEnricher, type TraceContextEnricher } from '../trace-context/enricher.js';
import { createLineParser } from './parse.js';
import { toLogRecord } from './record.js';
import type { ParsedLine } from './types.js';
import { METRICS } from '../../metrics/catalogue.js';

export class RecordBuilder implements Consumer<RawLogBatch> {
  private readonly parse: (text: string) => ParsedLine;
  private readonly enricher: TraceContextEnricher;
  private readonly parseErrors: { inc(n?: number): void };
  /** Whether anything reads a record's attributes: the export, the trace index, metric rules. */
  private readonly withAttributes: boolean;
  private readonly resource: LogBatch['resourceLogs'][number]['resource'];
  /** The last batch built: a batch refused downstream (backpressure) is offered again as it was, and not parsed or counted twice. */
  private last: { raw: RawLogBatch; built: LogBatch } | undefined;

  constructor(
    { config, telemetry }: ProcessorContext,
    private readonly next: Consumer<LogBatch>,
  ) {
    this.enricher = traceContextEnricher(config, telemetry);
    this.parse = createLineParser(config.logs, (key) => this.enricher.isContextKey(key));
    this.withAttributes = config.export.enabled || config.correlation.enabled || config.metrics.rules.length > 0;
    this.resource = { attributes: Object.entries(config.resource).map(([k, v]) => keyValue(k, v)) };
    const parseErrors = telemetry.counter(METRICS.logParseErrors);
    parseErrors.inc(0);
    this.parseErrors = parseErrors;
  }

  consume(raw: RawLogBatch): Promise<void> {
    let built = this.last?.raw === raw ? this.last.built : undefined;
    if (!built) {
      built = this.build(raw);
      this.last = { raw, built };
    }
    return this.next.consume(built).then(() => {
      if (this.last?.raw === raw) this.last = undefined;
    });
  }

  private build(raw: RawLogBatch): LogBatch {
    const observed = BigInt(Date.now()) * 1_000_000n;
    const records: LogRecord[] = [];
    let parseErrors = 0;
    for (const { file, records: rawRecords } of raw.files) {
      for (const r of rawRecords) {
        const line = this.parse(r.text);
        if (line.parseError) parseErrors++;
        this.enricher.enrich(line);
        records.push(toLogRecord(line, r, file, observed, this.withAttributes));
      }
    }
    if (parseErrors > 0) this.parseErrors.inc(parseErrors);
    return {
      resourceLogs: records.length > 0 ? [{ resource: this.resource, scopeLogs: [{ logRecords: records }] }] : [],
      checkpoints: raw.checkpoints,
      transport: 'file',
    };
  }
}
