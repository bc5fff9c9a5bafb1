// The trace context of the active span, as @opentelemetry/instrumentation-pino adds it to each
// log line (trace_id, span_id, trace_flags): pino's `mixin` option, for an app that does not load
// the instrumentation.
import { trace } from '@opentelemetry/api';

export function traceContextFields() {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags.toString(16).padStart(2, '0') };
}
