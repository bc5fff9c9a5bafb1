import type { Component } from '../component.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
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
  const correlation = buildCorrelation(ctx);
  return {
    logs: { processors: [...correlation.logs.processors], observers: [...correlation.logs.observers] },
    traces: { processors: [], observers: [...correlation.traces.observers] },
    components: correlation.components,
  };
}
