/** The correlation stages and components for one configuration: the index, and the debug server over it. */
import type { Component } from '../../component.js';
import { DebugServer } from '../../admin/debug-server.js';
import type { LogBatch, TraceBatch } from '../../pipeline/batches.js';
import type { ProcessorContext, Stages } from '../index.js';
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
  const components: Component[] = [];
  const { debug, limits } = ctx.config;
  // The debug server first: it stops before the index it reads is cleared.
  if (debug.endpoint) {
    components.push(
      new DebugServer({
        endpoint: debug.endpoint,
        token: debug.token,
        maxConnections: limits.max_connections,
        index: correlation.index,
        log: ctx.log.child({ component: 'debug' }),
      }),
    );
  }
  components.push(correlation);
  return {
    logs: { processors: correlation.logProcessors, observers: [correlation.logObserver] },
    traces: { processors: [], observers: [correlation.traceObserver] },
    components,
    correlation,
  };
}
