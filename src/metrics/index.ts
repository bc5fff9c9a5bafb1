/** The metrics stages of the pipelines: span metrics on traces, log metrics and rules on logs. */
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { LogBatch, TraceBatch } from '../pipeline/batches.js';
import type { Observer } from '../pipeline/pipeline.js';
import { retainFamilies } from './families.js';
import { LogMetrics } from './log-metrics.js';
import { RuleMetrics } from './rules.js';
import { ServiceGraph } from './service-graph.js';
import { SpanMetrics } from './span-metrics.js';
import type { Telemetry } from './telemetry.js';

export interface MetricObservers {
  spanMetrics: SpanMetrics;
  logMetrics: LogMetrics;
  ruleMetrics: RuleMetrics;
  /** When metrics.service_graph.enabled. */
  serviceGraph?: ServiceGraph;
  traces: Observer<TraceBatch>[];
  logs: Observer<LogBatch>[];
}

export function buildMetricObservers(ctx: { config: Config; log: Logger; telemetry: Telemetry }): MetricObservers {
  const { config, telemetry } = ctx;
  const m = config.metrics;
  const log = ctx.log.child({ component: 'metrics' });
  const defaultServiceName = String(config.resource['service.name'] ?? 'unknown_service');
  const budget = { maxSeries: m.max_series_per_metric, idleTimeoutMs: m.series_idle_timeout };
  const spanMetrics = new SpanMetrics({
    ...budget,
    naming: m.span_metrics.naming,
    buckets: m.span_metrics.histogram_buckets,
    dimensions: m.span_metrics.dimensions,
    dedupeWindowMs: m.span_metrics.dedupe_window,
    dedupeMaxSpans: m.span_metrics.dedupe_max_spans,
    defaultServiceName,
    telemetry,
    log,
  });
  const logMetrics = new LogMetrics({ ...budget, defaultServiceName, telemetry, log });
  const ruleMetrics = new RuleMetrics({ ...budget, rules: m.rules, telemetry, log });
  const sg = m.service_graph;
  const serviceGraph = sg.enabled
    ? new ServiceGraph({ ...budget, waitMs: sg.wait, maxItems: sg.max_items, buckets: sg.histogram_buckets, peerAttributes: sg.peer_attributes, dedupeWindowMs: m.span_metrics.dedupe_window, dedupeMaxSpans: m.span_metrics.dedupe_max_spans, defaultServiceName, telemetry, log })
    : undefined;
  // A reload that switched naming or dropped a rule leaves no stale families behind.
  retainFamilies(
    telemetry,
    new Set([...spanMetrics.familyNames, logMetrics.records.name, logMetrics.fileRecords.name, ...ruleMetrics.rules.map((r) => r.family.name), ...(serviceGraph?.familyNames ?? [])]),
  );
  const traces: Observer<TraceBatch>[] = serviceGraph ? [spanMetrics, serviceGraph] : [spanMetrics];
  return { spanMetrics, logMetrics, ruleMetrics, serviceGraph, traces, logs: [logMetrics, ruleMetrics] };
}
