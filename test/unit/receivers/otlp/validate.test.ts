import { describe, expect, it } from 'vitest';
import { rejectInvalidLogRecords, rejectInvalidSpans } from '../../../../src/receivers/otlp/validate.js';
import type { ExportTraceServiceRequest, Span } from '../../../../src/otlp/types.js';

const id = (n: number, fill = 1) => Buffer.alloc(n, fill);
const span = (name: string, over: Partial<Span> = {}): Span => ({ traceId: id(16), spanId: id(8), name, startTimeUnixNano: 0 as never, endTimeUnixNano: 0 as never, ...over });

describe('rejectInvalidSpans', () => {
  it('keeps a request without invalid spans untouched (same arrays)', () => {
    const spans = [span('a'), span('b', { parentSpanId: id(8) }), span('c', { parentSpanId: Buffer.alloc(0) })];
    const req: ExportTraceServiceRequest = { resourceSpans: [{ scopeSpans: [{ spans }] }] };
    expect(rejectInvalidSpans(req)).toBeUndefined();
    expect(req.resourceSpans[0].scopeSpans[0].spans).toBe(spans);
  });

  it('drops spans with missing, short, all-zero ids or a malformed parent, and says why', () => {
    const req: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [span('ok1'), span('short-trace', { traceId: id(8) }), span('ok2')] },
            { spans: [span('zero-span', { spanId: id(8, 0) }), span('bad-parent', { parentSpanId: id(4) }), span('ok3')] },
            { spans: [span('no-trace', { traceId: Buffer.alloc(0) })] },
          ],
        },
      ],
    };
    const r = rejectInvalidSpans(req);
    expect(r).toEqual({ rejected: 4, firstReason: 'span "short-trace": trace_id must be 16 bytes, not all zero (got 8 bytes 0101010101010101)' });
    expect(req.resourceSpans[0].scopeSpans.map((ss) => ss.spans.map((s) => s.name))).toEqual([['ok1', 'ok2'], ['ok3'], []]);
  });
});

describe('rejectInvalidLogRecords', () => {
  it('accepts records without trace context and drops ids of the wrong length', () => {
    const req = {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{}, { traceId: id(16), spanId: id(8) }, { traceId: id(16, 0) }, { traceId: id(15) }, { spanId: id(9) }] }] }],
    };
    expect(rejectInvalidLogRecords(req)).toEqual({ rejected: 2, firstReason: 'log record 3 of its scope: trace_id must be empty or 16 bytes (got 15 bytes 010101010101010101010101010101)' });
    expect(req.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(3);
  });
});
