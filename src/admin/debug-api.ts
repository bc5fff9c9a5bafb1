/**
 * The debug API's JSON documents (README "Debug API"): a trace's spans and logs, time-ordered,
 * and the list of recent traces. Timestamps are exact decimal nanosecond strings plus
 * millisecond offsets from the trace start for drawing.
 */
import { jsonAttributes } from '../otlp/values.js';
import { compactAttributesJson } from '../processors/correlation/compact-attributes.js';
import { nanosToMs, nanosToString, type ResourceInfo } from '../processors/correlation/summaries.js';
import { SEVERITIES, severityOf } from '../otlp/severity.js';
import { durationMs, errorLogs, isError, rootSpan, services, type TraceEntry, type TraceQuery } from '../processors/correlation/trace-index.js';
import { parseDuration } from '../config/units.js';

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

export const TRACE_ID_RE = /^[0-9a-fA-F]{32}$/;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

function logCounts(e: TraceEntry): Record<string, number> {
  return Object.fromEntries(SEVERITIES.map((s, i) => [s, e.logCounts[i]]));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The earliest time of the trace: its first span, or its first log when it has no span yet. */
function startOf(e: TraceEntry): number | undefined {
  if (e.startMs !== undefined) return e.startMs;
  let min: number | undefined;
  for (const l of e.logs) {
    const t = nanosToMs(l.time);
    if (t !== undefined && (min === undefined || t < min)) min = t;
  }
  return min;
}

/** One line of the trace list. */
export function traceSummary(e: TraceEntry): Record<string, unknown> {
  const root = rootSpan(e);
  const counts = logCounts(e);
  const start = startOf(e);
  return {
    traceId: e.id,
    rootName: root?.name ?? null,
    rootService: root?.resource.serviceName ?? null,
    services: services(e),
    startTime: start === undefined ? null : new Date(start).toISOString(),
    durationMs: round(durationMs(e)),
    spanCount: e.spans.length + e.droppedSpans,
    errorSpans: e.errorSpans,
    error: isError(e),
    logCount: Object.values(counts).reduce((a, b) => a + b, 0),
    logCounts: counts,
    errorLogs: errorLogs(e),
    unmatchedLogs: e.spans.length === 0 ? e.pendingLogs : 0,
  };
}

/** A trace: its spans (by start time) and log records (by time), with offsets from its start. */
export function traceDocument(e: TraceEntry): Record<string, unknown> {
  const start = startOf(e) ?? 0;
  const resources: ResourceInfo[] = [];
  const resourceIndex = (r: ResourceInfo) => {
    let i = resources.indexOf(r);
    if (i < 0) i = resources.push(r) - 1;
    return i;
  };
  const spans = [...e.spans]
    .sort((a, b) => (nanosToMs(a.start) ?? 0) - (nanosToMs(b.start) ?? 0))
    .map((s) => {
      const st = nanosToMs(s.start);
      const en = nanosToMs(s.end);
      return {
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || null,
        name: s.name,
        kind: SPAN_KINDS[s.kind] ?? String(s.kind),
        service: s.resource.serviceName,
        scope: s.scopeName,
        resource: resourceIndex(s.resource),
        startTimeUnixNano: nanosToString(s.start) ?? null,
        endTimeUnixNano: nanosToString(s.end) ?? null,
        offsetMs: st === undefined ? 0 : round(st - start),
        durationMs: st === undefined || en === undefined ? 0 : round(en - st),
        status: { code: STATUS_CODES[s.statusCode] ?? String(s.statusCode), message: s.statusMessage },
        attributes: compactAttributesJson(s.attributes),
        droppedAttributes: s.droppedAttributes,
        events: s.events.map((ev) => {
          const t = nanosToMs(ev.timeUnixNano);
          return { name: ev.name, timeUnixNano: nanosToString(ev.timeUnixNano) ?? null, offsetMs: t === undefined ? 0 : round(t - start), attributes: compactAttributesJson(ev.attributes) };
        }),
      };
    });
  const logs = e.logs
    .map((l, i) => ({ l, i, t: nanosToMs(l.time) }))
    .sort((a, b) => (a.t ?? 0) - (b.t ?? 0) || a.i - b.i)
    .map(({ l, t }) => ({
      timeUnixNano: nanosToString(l.time) ?? null,
      offsetMs: t === undefined ? 0 : round(t - start),
      severityNumber: l.severityNumber,
      severityText: l.severityText,
      severity: severityOf(l),
      body: l.body,
      spanId: l.spanId || null,
      service: l.resource.serviceName,
      resource: resourceIndex(l.resource),
      attributes: compactAttributesJson(l.attributes),
    }));
  return {
    ...traceSummary(e),
    droppedSpans: e.droppedSpans,
    droppedLogs: e.droppedLogs,
    spans,
    logs,
    resources: resources.map((r) => ({ serviceName: r.serviceName, attributes: jsonAttributes(r.attributes) })),
  };
}

export type QueryResult = { ok: true; query: TraceQuery } | { ok: false; error: string };

/** `?service=&status=error&min_duration=250ms&limit=20`, validated. */
export function parseTraceQuery(params: URLSearchParams): QueryResult {
  const query: TraceQuery = { limit: DEFAULT_LIMIT };
  for (const key of params.keys()) {
    if (!['service', 'status', 'min_duration', 'limit'].includes(key)) return { ok: false, error: `unknown parameter ${JSON.stringify(key)}; known: service, status, min_duration, limit` };
  }
  const service = params.get('service');
  if (service) query.service = service;
  const status = params.get('status');
  if (status) {
    if (status !== 'error' && status !== 'ok') return { ok: false, error: `status: expected "error" or "ok", got ${JSON.stringify(status)}` };
    query.status = status;
  }
  const min = params.get('min_duration');
  if (min) {
    const ms = /^\d+(\.\d+)?$/.test(min) ? Number(min) : parseDuration(min);
    if (ms === undefined) return { ok: false, error: `min_duration: expected milliseconds or a duration such as "250ms", got ${JSON.stringify(min)}` };
    query.minDurationMs = ms;
  }
  const limit = params.get('limit');
  if (limit) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) return { ok: false, error: `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limit)}` };
    query.limit = n;
  }
  return { ok: true, query };
}
