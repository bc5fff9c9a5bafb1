/**
 * Properties of trace-context extraction: random valid ids, written in any of the forms a log line
 * carries them in (fields in their spellings, nested or dotted, Datadog decimals, a W3C traceparent
 * in a field or anywhere in the text, key=value text, X-Ray), are found exactly, and stay intact
 * while more lines are read; junk never throws and never yields an id that is not valid (16 and 8
 * bytes, not all zero, flags a byte).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idToHex } from '../../src/otlp/values.js';
import { TraceContextExtractor, type Fields } from '../../src/processors/trace-context/extract.js';
import { INVALID_ID_REASONS, type InvalidIdReason, type TraceContext } from '../../src/processors/trace-context/ids.js';
import { check } from './settings.js';

function extractor(): { x: TraceContextExtractor; refused: InvalidIdReason[] } {
  const refused: InvalidIdReason[] = [];
  const x = new TraceContextExtractor({ trace_id_fields: [], span_id_fields: [], trace_flags_fields: [], patterns: [], scan_text: true }, (r) => refused.push(r));
  return { x, refused };
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const nonZero = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).filter((b) => b.some((x) => x !== 0));

/** Ids as hex, in either case (loggers are not all W3C-strict about it). */
const ids = fc.record({
  trace: nonZero(16).map(hexOf),
  span: nonZero(8).map(hexOf),
  flags: fc.integer({ min: 0, max: 255 }),
  upper: fc.boolean(),
});
type Ids = { trace: string; span: string; flags: number; upper: boolean };
const spell = (id: Ids, hex: string) => (id.upper ? hex.toUpperCase() : hex);
const flagsHex = (flags: number) => flags.toString(16).padStart(2, '0');
const traceparent = (id: Ids) => `00-${spell(id, id.trace)}-${spell(id, id.span)}-${flagsHex(id.flags)}`;

/** One line carrying a context, as its fields and text, and the context it carries. */
interface ContextCase {
  fields: Fields | undefined;
  text: string;
  expected: { trace: string; span: string | undefined; flags: number | undefined };
}

/** Text around an id: anything in which extraction finds no context of its own. */
const filler = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\n') && extractor().x.extract(undefined, s) === undefined);

const jsonCase = (fields: Fields, expected: ContextCase['expected']): ContextCase => ({ fields, text: JSON.stringify(fields), expected });

const contextCase: fc.Arbitrary<ContextCase> = fc.oneof(
  // OTel and friends: flat in their spellings, dotted or nested (ECS)
  fc.tuple(ids, fc.constantFrom(['trace_id', 'span_id', 'trace_flags'], ['traceId', 'spanId', 'traceFlags'], ['traceID', 'spanID', 'trace_flags'], ['trace.id', 'span.id', 'trace.flags'])).map(([id, [t, s, f]]) =>
    jsonCase({ [t]: spell(id, id.trace), [s]: spell(id, id.span), [f]: flagsHex(id.flags) }, { trace: id.trace, span: id.span, flags: id.flags }),
  ),
  ids.map((id) => jsonCase({ trace: { id: spell(id, id.trace) }, span: { id: spell(id, id.span) } }, { trace: id.trace, span: id.span, flags: undefined })),
  ids.map((id) => jsonCase({ mdc: { trace_id: spell(id, id.trace), span_id: spell(id, id.span), trace_flags: id.flags } }, { trace: id.trace, span: id.span, flags: id.flags })),
  ids.map((id) => jsonCase({ traceparent: traceparent(id) }, { trace: id.trace, span: id.span, flags: id.flags })),
  // Datadog: unsigned 64-bit decimals, the trace id in the low half
  fc.tuple(fc.bigInt(1n, 2n ** 64n - 1n), fc.bigInt(1n, 2n ** 64n - 1n), fc.boolean()).map(([t, s, nested]) => {
    const hex = (v: bigint, digits: number) => v.toString(16).padStart(digits, '0');
    const fields = nested ? { dd: { trace_id: String(t), span_id: String(s) } } : { 'dd.trace_id': String(t), 'dd.span_id': String(s) };
    return jsonCase(fields, { trace: hex(t, 32), span: hex(s, 16), flags: undefined });
  }),
  // text forms
  fc.tuple(ids, filler, filler, fc.constantFrom('=', ': ', '="')).map(([id, before, after, eq]): ContextCase => {
    const close = eq.endsWith('"') ? '"' : '';
    return { fields: undefined, text: `${before} trace_id${eq}${spell(id, id.trace)}${close} span_id${eq}${spell(id, id.span)}${close} ${after}`, expected: { trace: id.trace, span: id.span, flags: undefined } };
  }),
  fc.tuple(ids, filler, filler).map(([id, before, after]): ContextCase => ({ fields: undefined, text: `${before} ${traceparent(id)} ${after}`, expected: { trace: id.trace, span: id.span, flags: id.flags } })),
  fc.tuple(ids, filler, fc.boolean()).map(([id, before, sampled]): ContextCase => ({
    fields: undefined,
    text: `${before} Root=1-${id.trace.slice(0, 8)}-${id.trace.slice(8, 32)};Parent=${id.span};Sampled=${sampled ? 1 : 0}`,
    expected: { trace: id.trace, span: id.span, flags: sampled ? 1 : 0 },
  })),
);

function expectValid(ctx: TraceContext | undefined): void {
  if (ctx === undefined) return;
  expect(ctx.traceId).toBeInstanceOf(Uint8Array);
  expect(ctx.traceId.byteLength).toBe(16);
  expect(ctx.traceId.some((b) => b !== 0)).toBe(true);
  if (ctx.spanId !== undefined) {
    expect(ctx.spanId.byteLength).toBe(8);
    expect(ctx.spanId.some((b) => b !== 0)).toBe(true);
  }
  if (ctx.flags !== undefined) expect(Number.isInteger(ctx.flags) && ctx.flags >= 0 && ctx.flags <= 255).toBe(true);
}

// ---- junk ----------------------------------------------------------------------------------------

/** Pieces of the forms: keys, hex runs (all-zero ones too), separators. */
const PIECES = ['0', '1', 'a', 'F', 'g', '-', '=', ':', ' ', '"', '[', ']', ',', ';', '\n', 'true', 'trace_id', 'span_id', 'trace_flags', 'traceparent', '00-', 'ff-', 'Root=1-', 'Parent=', 'dd.trace_id', 'x-b3-traceid', '0000000000000000', 'ffffffffffffffff', '4bf92f3577b34da6'];
const junkText = fc.oneof(fc.string({ unit: fc.constantFrom(...PIECES), maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 60 }));
const CONTEXT_KEYS = ['trace_id', 'traceId', 'span_id', 'spanId', 'trace_flags', 'trace_sampled', 'traceparent', 'transaction.id', 'dd.trace_id', 'dd.span_id', 'dd', 'trace', 'span', 'mdc', 'x-b3-traceid', 'x-b3-spanid', 'b3', 'x-amzn-trace-id', 'logging.googleapis.com/trace', 'logging.googleapis.com/spanId', 'otelTraceID', '@tr'];
const junkFields: fc.Arbitrary<Fields> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    junkText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt(0n, 2n ** 70n).map(String),
    fc.constantFrom('0', '', '-', 'null', 'None', '00000000000000000000000000000000'),
    tie('fields'),
  ),
  fields: fc.dictionary(fc.oneof(fc.constantFrom(...CONTEXT_KEYS), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 5 }),
})).fields as fc.Arbitrary<Fields>;

describe('trace-context extraction', () => {
  it('finds random valid ids exactly, in every form, and they stay intact while more lines are read', () => {
    check(
      fc.property(fc.array(fc.tuple(contextCase, fc.option(fc.tuple(junkFields, junkText), { nil: undefined })), { minLength: 1, maxLength: 12 }), (cases) => {
        const { x } = extractor();
        const found: (TraceContext | undefined)[] = [];
        for (const [c, junk] of cases) {
          found.push(x.extract(c.fields, c.text));
          if (junk) expectValid(x.extract(junk[0], junk[1])); // refused ids in between must not disturb the ids found
        }
        cases.forEach(([c], i) => {
          const ctx = found[i];
          expect(ctx, c.text).toBeDefined();
          expect(idToHex(ctx!.traceId)).toBe(c.expected.trace);
          expect(ctx!.spanId === undefined ? undefined : idToHex(ctx!.spanId)).toBe(c.expected.span);
          expect(ctx!.flags).toBe(c.expected.flags);
        });
      }),
      { scale: 0.5 },
    );
  });

  it('never throws on junk and never yields an invalid id; refused ids are counted by a known reason', () => {
    check(
      fc.property(fc.option(junkFields, { nil: undefined }), junkText, (fields, text) => {
        const { x, refused } = extractor();
        const taken: string[] = [];
        const ctx = x.extract(fields, text, taken);
        expectValid(ctx);
        for (const reason of refused) expect(INVALID_ID_REASONS).toContain(reason);
        for (const key of taken) expect(Object.keys(fields ?? {})).toContain(key);
      }),
      { scale: 2 },
    );
  });
});
