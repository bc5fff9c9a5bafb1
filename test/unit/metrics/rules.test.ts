import { describe, expect, it } from 'vitest';
import { hasTraceContext, severityOf } from '../../../src/otlp/severity.js';
import { compileField, fieldNumber, fieldText, RecordView } from '../../../src/metrics/rules.js';
import type { LogRecord } from '../../../src/otlp/types.js';
import { keyValue, toAnyValue } from '../../../src/otlp/values.js';

function view(record: Partial<LogRecord>, resource: Record<string, unknown> = {}): RecordView {
  const v = new RecordView();
  v.reset(record as LogRecord, Object.entries(resource).map(([k, x]) => keyValue(k, x)));
  return v;
}

const text = (name: string, v: RecordView, captures: Set<string> = new Set(), caps?: Record<string, string>) => fieldText(compileField(name, captures)(v, caps));

describe('rule fields', () => {
  const record = view(
    {
      body: toAnyValue('GET /cart 200'),
      severityText: 'WARN',
      attributes: [keyValue('http.route', '/flat'), keyValue('http', { request: { method: 'GET' } }), keyValue('n', 3)],
      traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
    },
    { 'service.name': 'checkout', k8s: { pod: { name: 'p-1' } } },
  );

  it('reads attributes by exact key, then by a dotted path into nested maps', () => {
    expect(text('http.route', record)).toBe('/flat');
    expect(text('http.request.method', record)).toBe('GET');
    expect(text('n', record)).toBe('3');
    expect(text('missing', record)).toBeUndefined();
  });

  it('knows body, severity, trace_id, resource.* and falls back to the body for msg and to the severity for level', () => {
    expect(text('body', record)).toBe('GET /cart 200');
    expect(text('msg', record)).toBe('GET /cart 200');
    expect(text('level', record)).toBe('WARN');
    expect(text('severity', record)).toBe('WARN');
    expect(text('trace_id', record)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(text('resource.service.name', record)).toBe('checkout');
    expect(text('resource.k8s.pod.name', record)).toBe('p-1');
  });

  it('prefers a regex capture over an attribute of the same name', () => {
    expect(text('n', record, new Set(['n']), { n: '7' })).toBe('7');
  });

  it('reads numbers from ints, doubles and decimal text only', () => {
    expect(fieldNumber(toAnyValue(42))).toBe(42);
    expect(fieldNumber(toAnyValue(2.5))).toBe(2.5);
    expect(fieldNumber('1e3')).toBe(1000);
    expect(fieldNumber(toAnyValue(' 12.5 '))).toBe(12.5);
    expect(fieldNumber('12ms')).toBeNaN();
    expect(fieldNumber(toAnyValue(true))).toBeNaN();
    expect(fieldNumber('')).toBeNaN();
  });
});

describe('severityOf', () => {
  it('maps SeverityNumber ranges, then common level names, else unspecified', () => {
    expect([1, 5, 9, 12, 13, 17, 21, 24].map((n) => severityOf({ severityNumber: n }))).toEqual(['trace', 'debug', 'info', 'info', 'warn', 'error', 'fatal', 'fatal']);
    expect(['WARNING', 'err', 'CRITICAL', 'notice', 'verbose', 'Information'].map((t) => severityOf({ severityText: t }))).toEqual(['warn', 'error', 'fatal', 'info', 'debug', 'info']);
    expect(severityOf({ severityText: 'loud' })).toBe('unspecified');
    expect(severityOf({})).toBe('unspecified');
  });

  it('treats only a 16-byte non-zero trace id as trace context', () => {
    expect(hasTraceContext({ traceId: new Uint8Array(16) })).toBe(false);
    expect(hasTraceContext({ traceId: new Uint8Array(8).fill(1) })).toBe(false);
    expect(hasTraceContext({ traceId: new Uint8Array(16).fill(1) })).toBe(true);
  });
});
