import type { Component } from '../component.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import { buildMetricObservers } from '../metrics/index.js';
import type { Telemetry } from '../metrics/telemetry.js';
import type { LogBatch, TraceBatch } from '../pipeline/batches.js';
import type { Observer, Processor } from '../pipeline/pipeline.js';
import { buildCorrelation } from './correlation/build.js';

export interface ProcessorContext {
  config: Config;
  log: Logger;
  telemetry: Telemetry;
}

export interface Stages<B> {
  processors: Processor<B>[];
  observers: Observer<B>[];
}

/** The processors and observers of the logs and traces pipelines, and the components they need running. */
export function buildStages(ctx: ProcessorContext): { logs: Stages<LogBatch>; traces: Stages<TraceBatch>; components: Component[] } {
  const metrics = buildMetricObservers(ctx);
  if (!ctx.config.correlation.enabled) {
    return { logs: { processors: [], observers: [...metrics.logs] }, traces: { processors: [], observers: [...metrics.traces] }, components: [] };
  }
  const correlation = buildCorrelation(ctx);
  return {
    // Resource inheritance runs before the queue, so exports and log metrics see the inherited resource.
    logs: { processors: [...correlation.logs.processors], observers: [...metrics.logs, ...correlation.logs.observers] },
    traces: { processors: [], observers: [...metrics.traces, ...correlation.traces.observers] },
    components: correlation.components,
  };
}
