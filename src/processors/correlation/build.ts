/** The correlation stages and components for one configuration. */
import type { Component } from '../../component.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import type { ProcessorContext, Stages } from '../../pipeline/pipeline.js';
import { Correlation } from './correlation.js';

export interface CorrelationStages {
  logs: Stages<LogBatch>;
  traces: Stages<TraceBatch>;
  /** Started before the receivers, stopped after them. */
  components: Component[];
  correlation: Correlation;
}

export function buildCorrelation(ctx: ProcessorContext): CorrelationStages {
  const correlation = new Correlation(ctx);
  return {
    logs: { processors: correlation.logProcessors, observers: [correlation.logObserver] },
    traces: { processors: [], observers: [correlation.traceObserver] },
    components: [correlation],
    correlation,
  };
}
