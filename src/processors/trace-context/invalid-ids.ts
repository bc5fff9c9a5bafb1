/**
 * `tracetail_trace_context_invalid_ids_total{reason}`: ids found in log lines and refused. The
 * extractor runs once per record, so it only bumps a number; the counter is brought up to date
 * when Prometheus scrapes. One accumulator per registry, shared by every extractor built on it (a
 * reloaded pipeline keeps counting into the same series).
 */
import type { Telemetry } from '../../metrics/telemetry.js';
import { DEFAULT_TRACE_CONTEXT_OPTIONS, TraceContextExtractor, type TraceContextOptions } from './extract.js';
import type { InvalidIdSink } from './ids.js';
import { INVALID_ID_REASONS, type InvalidIdReason } from './ids.js';
import { METRICS } from '../../metrics/catalogue.js';

const sinks = new WeakMap<Telemetry, InvalidIdSink>();

export function invalidIdSink(telemetry: Telemetry): InvalidIdSink {
  let sink = sinks.get(telemetry);
  if (sink) return sink;
  const counter = telemetry.counter(METRICS.traceContextInvalidIds);
  const children = INVALID_ID_REASONS.map((reason) => counter.labels({ reason }));
  for (const c of children) c.inc(0);
  const index = new Map<InvalidIdReason, number>(INVALID_ID_REASONS.map((r, i) => [r, i]));
  const pending = new Array<number>(INVALID_ID_REASONS.length).fill(0);
  telemetry.addCollector(() => {
    for (let i = 0; i < pending.length; i++) {
      if (pending[i] > 0) {
        children[i].inc(pending[i]);
        pending[i] = 0;
      }
    }
  });
  sink = (reason) => {
    pending[index.get(reason)!]++;
  };
  sinks.set(telemetry, sink);
  return sink;
}

/** The extractor for `logs.trace_context`, counting refused ids into `telemetry`. */
export function createTraceContextExtractor(options: TraceContextOptions | undefined, telemetry: Telemetry): TraceContextExtractor {
  return new TraceContextExtractor(options ?? DEFAULT_TRACE_CONTEXT_OPTIONS, invalidIdSink(telemetry));
}
