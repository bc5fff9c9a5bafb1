import { describe, expect, it } from 'vitest';
import { applyTraceContext, TraceContextExtractor, type Fields, type TraceContextOptions } from '../../../../src/processors/trace-context/extract.js';
import type { InvalidIdReason } from '../../../../src/processors/trace-context/ids.js';
import { idToHex } from '../../../../src/otlp/values.js';
import { Telemetry } from '../../../../src/metrics/telemetry.js';
import { createTraceContextExtractor } from '../../../../src/processors/trace-context/invalid-ids.js';
import { TraceContextEnricher, type TraceContextTarget } from '../../../../src/processors/trace-context/enricher.js';
import type { LogRecord } from '../../../../src/otlp/types.js';
import { fieldsOf, LINE_SHAPES, S, T } from '../../../fixtures/trace-context/line-shapes.mjs';

function extractor(options?: Partial<TraceContextOptions>) {
  const refused: InvalidIdReason[] = [];
  const x = new TraceContextExtractor(
    { trace_id_fields: [], span_id_fields: [], trace_flags_fields: [], patterns: [], scan_text: true, ...options },
    (r) => refused.push(r),
  );
  return { x, refused };
}

describe('trace-context extraction over real-world line shapes', () => {
  it('covers at least 40 shapes, positive and negative', () => {
    expect(LINE_SHAPES.length).toBeGreaterThanOrEqual(40);
    expect(LINE_SHAPES.filter((c) => c.expect === null).length).toBeGreaterThanOrEqual(10);
    expect(new Set(LINE_SHAPES.map((c) => c.name)).size).toBe(LINE_SHAPES.length);
  });

  it.each(LINE_SHAPES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { x, refused } = extractor();
    const ctx = x.extract(fieldsOf(c.format, c.line), c.line);
    if (c.expect === null) {
      expect(ctx).toBeUndefined();
    } else {
      expect(ctx).toBeDefined();
      expect(ctx!.traceId).toBeInstanceOf(Uint8Array);
      expect(ctx!.traceId.byteLength).toBe(16);
      expect(idToHex(ctx!.traceId)).toBe(c.expect.trace);
      expect(ctx!.spanId ? idToHex(ctx!.spanId) : undefined).toBe(c.expect.span);
      if (ctx!.spanId) expect(ctx!.spanId.byteLength).toBe(8);
      expect(ctx!.flags).toBe(c.expect.flags);
    }
    expect(refused).toEqual(c.invalid ?? []);
  });
});

describe('user-configured fields and patterns', () => {
  it('reads ids from configured field paths, nested or flat dotted, before the built-in names', () => {
    const { x } = extractor({ trace_id_fields: ['ctx.tid'], span_id_fields: ['ctx.sid'], trace_flags_fields: ['ctx.f'] });
    const nested = x.extract({ trace_id: 'ffffffffffffffffffffffffffffffff', ctx: { tid: T, sid: S, f: '01' } }, '');
    expect(idToHex(nested!.traceId)).toBe(T);
    expect(idToHex(nested!.spanId)).toBe(S);
    expect(nested!.flags).toBe(1);
    const flat = x.extract({ 'ctx.tid': T }, '');
    expect(idToHex(flat!.traceId)).toBe(T);
    // Without the configured field, the built-in names still answer.
    expect(idToHex(x.extract({ trace_id: T }, '')!.traceId)).toBe(T);
  });

  it('accepts a traceparent, an X-Ray id or a decimal in a configured field', () => {
    const { x } = extractor({ trace_id_fields: ['req'] });
    const tp = x.extract({ req: `00-${T}-${S}-01` }, '')!;
    expect([idToHex(tp.traceId), idToHex(tp.spanId), tp.flags]).toEqual([T, S, 1]);
    expect(idToHex(x.extract({ req: 'Root=1-5759e988-bd862e3fe1be46a994272793' }, '')!.traceId)).toBe('5759e988bd862e3fe1be46a994272793');
    expect(idToHex(x.extract({ req: '1234567890123456789' }, '')!.traceId)).toBe('0000000000000000112210f47de98115');
  });

  it('tries configured patterns on the line when the fields carry nothing', () => {
    const { x, refused } = extractor({ patterns: ['req#(?<trace_id>[0-9a-f]+)/(?<span_id>[0-9a-f]+)'] });
    const ctx = x.extract(undefined, `GET /orders req#${T}/${S} 200`)!;
    expect([idToHex(ctx.traceId), idToHex(ctx.spanId)]).toEqual([T, S]);
    expect(x.extract(undefined, `req#${T.slice(4)}/${S}`)).toBeUndefined();
    expect(refused).toEqual(['wrong_length']);
  });

  it('does not scan the text when scan_text is false', () => {
    const { x } = extractor({ scan_text: false });
    expect(x.extract(undefined, `trace_id=${T}`)).toBeUndefined();
    expect(x.extract({ trace_id: T }, '')).toBeDefined();
  });

  it('does not fall back to the line when a field named a broken id', () => {
    const { x, refused } = extractor();
    const line = `{"trace_id":"nothex","msg":"traceparent 00-${T}-${S}-01"}`;
    expect(x.extract(JSON.parse(line) as Fields, line)).toBeUndefined();
    expect(refused).toEqual(['not_hex']);
  });
});

describe('applyTraceContext', () => {
  it('sets the ids and keeps flag bits above the trace flags', () => {
    const { x } = extractor();
    const record: LogRecord = { flags: 0x100 };
    applyTraceContext(record, x.extract({ trace_id: T, span_id: S, trace_flags: '01' }, '')!);
    expect(idToHex(record.traceId)).toBe(T);
    expect(idToHex(record.spanId)).toBe(S);
    expect(record.flags).toBe(0x101);
  });
});

describe('refused ids in metrics', () => {
  it('counts them by reason when Prometheus scrapes, every reason present from the start', async () => {
    const telemetry = new Telemetry({ processMetrics: false });
    const x = createTraceContextExtractor(undefined, telemetry);
    const again = createTraceContextExtractor(undefined, telemetry); // a reloaded pipeline shares the counter
    const values = async () => {
      await telemetry.collect();
      const m = await telemetry.registry.getSingleMetric('tracetail_trace_context_invalid_ids_total')!.get();
      return Object.fromEntries(m.values.map((v) => [v.labels.reason, v.value]));
    };
    expect(Object.values(await values())).toEqual([0, 0, 0, 0, 0, 0, 0]);
    x.extract({ trace_id: 'abc12' }, '');
    x.extract({ trace_id: 'abc12' }, '');
    again.extract(undefined, `"ff-${T}-${S}-01"`);
    expect(await values()).toMatchObject({ wrong_length: 2, bad_traceparent: 1, not_hex: 0 });
    expect(await values()).toMatchObject({ wrong_length: 2, bad_traceparent: 1 });
  });
});

describe('the per-record enricher', () => {
  const enricher = new TraceContextEnricher(new TraceContextExtractor());
  const parsed = (text: string, fields: Record<string, unknown> | null) => ({ text, fields, taken: ['msg'] as string[] }) as TraceContextTarget;

  it('sets the context and takes the top-level fields that gave it', () => {
    const line = parsed('', { msg: 'hi', trace_id: T, span_id: S, trace_flags: '01', orderId: 7 });
    enricher.enrich(line);
    expect([idToHex(line.traceId), idToHex(line.spanId), line.traceFlags]).toEqual([T, S, 1]);
    expect(line.taken).toEqual(['msg', 'trace_id', 'span_id', 'trace_flags']);
  });

  it('never takes nested objects, nor transaction.id, nor a field whose id was refused', () => {
    const dd = parsed('', { dd: { trace_id: '1234567890123456789', span_id: '1', service: 'billing' } });
    enricher.enrich(dd);
    expect(dd.traceId).toBeDefined();
    expect(dd.taken).toEqual(['msg']);
    const ecs = parsed('', { 'trace.id': T, 'transaction.id': S });
    enricher.enrich(ecs);
    expect(idToHex(ecs.spanId)).toBe(S);
    expect(ecs.taken).toEqual(['msg', 'trace.id']);
    const broken = parsed('', { trace_id: 'nothex' });
    enricher.enrich(broken);
    expect(broken.traceId).toBeUndefined();
    expect(broken.taken).toEqual(['msg']);
  });

  it('reads plain text lines and takes nothing', () => {
    const line = parsed(`GET / 200 "00-${T}-${S}-01"`, null);
    enricher.enrich(line);
    expect(idToHex(line.traceId)).toBe(T);
    expect(line.taken).toEqual(['msg']);
  });
});
