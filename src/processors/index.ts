import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import { buildMetricObservers } from '../metrics/index.js';
import type { Telemetry } from '../metrics/telemetry.js';
import type { LogBatch, TraceBatch } from '../pipeline/batches.js';
import type { Observer, Processor } from '../pipeline/pipeline.js';

export interface ProcessorContext {
  config: Config;
  log: Logger;
  telemetry: Telemetry;
}

export interface Stages<B> {
  processors: Processor<B>[];
  observers: Observer<B>[];
}

/** The processors and observers of the logs and traces pipelines. */
export function buildStages(ctx: ProcessorContext): { logs: Stages<LogBatch>; traces: Stages<TraceBatch> } {
  const metrics = buildMetricObservers(ctx);
  return {
    logs: { processors: [], observers: [...metrics.logs] },
    traces: { processors: [], observers: [...metrics.traces] },
  };
}
