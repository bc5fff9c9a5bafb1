/**
 * Log records read from files inherit the resource attributes they lack (`service.version`,
 * `deployment.environment`, a real `service.name` where the config had none) from the span
 * resource of their trace, as the index knows it; until their trace's spans arrive, and for lines
 * without trace context, from the latest span resource of the same service. Records whose chosen
 * resources differ are split into separate ResourceLogs. Attributes the log resource has are
 * never changed, except an `unknown_service…` service.name. Idempotent: running it again on a
 * retried batch adds nothing.
 *
 * Records with a zero-high (Datadog decimal, 64-bit) trace id whose full 128-bit id the index
 * knows get that full id.
 */
import { RateLimitedLog, type Logger } from '../../logger.js';
import { ComponentMetrics } from '../../metrics/component-metrics.js';
import type { Telemetry } from '../../metrics/telemetry.js';
import type { KeyValue, LogRecord, Resource, ResourceLogs, ScopeLogs } from '../../otlp/types.js';
import { anyValueToString, findAttribute, idToHex } from '../../otlp/values.js';
import type { LogBatch } from '../../pipeline/batches.js';
import type { Processor } from '../../pipeline/pipeline.js';
import type { ResourceInfo } from './summaries.js';
import type { TraceIndex } from './trace-index.js';

/** The transport of batches tracetail builds itself from log files. */
export const FILE_TRANSPORT = 'file';

export interface ResourceInheritanceOptions {
  telemetry?: Telemetry;
  log?: Logger;
  /** Called once per batch with the number of records whose resource gained attributes. */
  onEnriched?: (records: number) => void;
}

export class ResourceInheritance implements Processor<LogBatch> {
  readonly name = 'correlation_resource';
  private readonly errors?: { inc(): void };
  private readonly limitedLog?: RateLimitedLog;

  constructor(
    private readonly index: TraceIndex,
    private readonly options: ResourceInheritanceOptions = {},
  ) {
    if (options.telemetry) this.errors = new ComponentMetrics(options.telemetry, this.name, { discarded: {}, errorStages: ['processing'] }).errors('processing');
    if (options.log) this.limitedLog = new RateLimitedLog(options.log);
  }

  /**
   * Enrichment must never cost a batch: on an unexpected error the batch goes on as it came,
   * and the error is counted (`tracetail_component_errors_total`) and logged once per interval.
   */
  process(batch: LogBatch): LogBatch {
    if (batch.transport !== FILE_TRANSPORT || !this.index.hasSpanResources) return batch;
    try {
      return this.enrich(batch);
    } catch (err) {
      this.errors?.inc();
      this.limitedLog?.error(this.name, { err, component: this.name }, 'could not give log records their span resource; they go on as they came');
      return batch;
    }
  }

  private enrich(batch: LogBatch): LogBatch {
    let enriched = 0;
    const out: ResourceLogs[] = [];
    for (const rl of batch.resourceLogs) {
      const { groups, records } = this.group(rl);
      if (groups.size === 1 && groups.has(null)) {
        out.push(rl);
        continue;
      }
      for (const [info, scopeLogs] of groups) {
        const resource = info ? merged(rl.resource, info) : rl.resource;
        if (info && resource !== rl.resource) enriched += records.get(info) ?? 0;
        out.push({ ...rl, resource, scopeLogs });
      }
    }
    if (enriched > 0) this.options.onEnriched?.(enriched);
    return { ...batch, resourceLogs: out };
  }

  /** The records of `rl` grouped by the span resource they inherit from (null: none), scopes kept. */
  private group(rl: ResourceLogs): { groups: Map<ResourceInfo | null, ScopeLogs[]>; records: Map<ResourceInfo | null, number> } {
    const service = findAttribute(rl.resource?.attributes, 'service.name');
    const logService = service ? anyValueToString(service) : '';
    const groups = new Map<ResourceInfo | null, ScopeLogs[]>();
    const records = new Map<ResourceInfo | null, number>();
    for (const sl of rl.scopeLogs ?? []) {
      const byInfo = new Map<ResourceInfo | null, LogRecord[]>();
      for (const record of sl.logRecords ?? []) {
        const info = this.inheritFrom(record, logService) ?? null;
        let list = byInfo.get(info);
        if (!list) byInfo.set(info, (list = []));
        list.push(record);
      }
      for (const [info, logRecords] of byInfo) {
        let scopes = groups.get(info);
        if (!scopes) groups.set(info, (scopes = []));
        scopes.push(byInfo.size === 1 ? sl : { ...sl, logRecords });
        records.set(info, (records.get(info) ?? 0) + logRecords.length);
      }
    }
    return { groups, records };
  }

  private inheritFrom(record: LogRecord, logService: string): ResourceInfo | undefined {
    const id = record.traceId;
    if (id && id.byteLength === 16 && isZeroHigh(id)) {
      const traceId = idToHex(id);
      const full = this.index.resolve(traceId);
      if (full !== traceId) record.traceId = Buffer.from(full, 'hex');
    }
    return this.index.resourceForLog(record.traceId, record.spanId, logService);
  }
}

function isZeroHigh(id: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (id[i] !== 0) return false;
  return true;
}

function isUnknownService(v: KeyValue['value']): boolean {
  return anyValueToString(v).startsWith('unknown_service');
}

/** The log resource with the attributes it lacks taken from `info`; the same object when none. */
function merged(resource: Resource | null | undefined, info: ResourceInfo): Resource | null | undefined {
  const own = resource?.attributes ?? [];
  const present = new Set(own.map((kv) => kv.key));
  let changed = false;
  const attributes = own.map((kv) => {
    if (kv.key === 'service.name' && info.serviceName && isUnknownService(kv.value)) {
      changed = true;
      return { key: kv.key, value: { stringValue: info.serviceName } };
    }
    return kv;
  });
  for (const kv of info.attributes) {
    if (!present.has(kv.key)) {
      attributes.push(kv);
      changed = true;
    }
  }
  return changed ? { ...resource, attributes } : resource;
}
