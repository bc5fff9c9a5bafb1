import type { Component } from '../component.js';
import { buildMetricObservers } from '../metrics/index.js';
import type { LogBatch, TraceBatch } from '../pipeline/batches.js';
import type { ProcessorContext, Stages } from '../pipeline/pipeline.js';
import { buildCorrelation } from './correlation/build.js';
import type { ServiceGraph } from '../metrics/service-graph.js';
import type { TraceIndex } from './correlation/trace-index.js';

export interface PipelineStages {
  logs: Stages<LogBatch>;
  traces: Stages<TraceBatch>;
  components: Component[];
  /** The trace index, when correlation is on (the debug server reads it). */
  index?: TraceIndex;
  /** The service graph, when on (the debug server reads its edges). */
  serviceGraph?: ServiceGraph;
}

/** The processors and observers of the logs and traces pipelines, and the components they need running. */
export function buildStages(ctx: ProcessorContext): PipelineStages {
  const metrics = buildMetricObservers(ctx);
  const serviceGraph = metrics.serviceGraph;
  const metricComponents: Component[] = serviceGraph ? [serviceGraph] : [];
  if (!ctx.config.correlation.enabled) {
    return { logs: { processors: [], observers: [...metrics.logs] }, traces: { processors: [], observers: [...metrics.traces] }, components: metricComponents, serviceGraph };
  }
  const correlation = buildCorrelation(ctx);
  return {
    // Resource inheritance runs before the queue, so exports and log metrics see the inherited resource.
    logs: { processors: [...correlation.logs.processors], observers: [...metrics.logs, ...correlation.logs.observers] },
    traces: { processors: [], observers: [...metrics.traces, ...correlation.traces.observers] },
    components: [...metricComponents, ...correlation.components],
    index: correlation.correlation.index,
    serviceGraph,
  };
}
