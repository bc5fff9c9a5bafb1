/**
 * Properties of the OTLP codec against protobufjs, the reference: random valid trace and logs
 * requests (every field of the schema) decode from protobuf exactly as protobufjs decodes them,
 * from OTLP JSON to the same data, and encode back to the same data; truncated, bit-flipped or
 * garbled bodies never throw anything but a DecodeError (the receivers' 400).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { decodeRequest, encodeRequest, requestType, type WireFormat } from '../../src/otlp/codec.js';
import { canonical, messageArbitrary, toOtlpJson } from './otlp-arbitrary.js';
import { check } from './settings.js';

const SIGNALS = ['traces', 'logs'] as const;
type Signal = (typeof SIGNALS)[number];

const requests = Object.fromEntries(SIGNALS.map((s) => [s, messageArbitrary(requestType[s])])) as Record<Signal, fc.Arbitrary<Record<string, unknown>>>;

function protobufOf(signal: Signal, obj: Record<string, unknown>): Buffer {
  return Buffer.from(requestType[signal].encode(requestType[signal].fromObject(obj)).finish());
}

/** The decoded request, or the error it threw (which must be a DecodeError). */
function decodeOrError(signal: Signal, body: Buffer, format: WireFormat): { value?: unknown; error?: unknown } {
  try {
    return { value: decodeRequest(signal, body, format) };
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return { error };
  }
}

function reference(signal: Signal, body: Buffer): { value?: unknown; error?: unknown } {
  try {
    return { value: requestType[signal].decode(body) };
  } catch (error) {
    return { error };
  }
}

/** `body` cut at `cut` (a share of its length) with `flips` bits flipped. */
function damaged(body: Buffer, cut: number, flips: [number, number][]): Buffer {
  const out = Buffer.from(body.subarray(0, Math.round(body.length * cut)));
  for (const [at, bit] of flips) if (out.length > 0) out[at % out.length] ^= 1 << bit;
  return out;
}

describe.each(SIGNALS)('%s requests', (signal) => {
  const type = requestType[signal];

  it('decode from protobuf exactly as protobufjs does, and encode back to the same data', () => {
    check(
      fc.property(requests[signal], (obj) => {
        const body = protobufOf(signal, obj);
        const decoded = decodeRequest(signal, body, 'protobuf');
        expect(decoded).toStrictEqual(type.decode(body));
        expect(canonical(type, type.decode(Buffer.from(encodeRequest(signal, decoded))))).toEqual(canonical(type, obj));
      }),
      { scale: 0.5 },
    );
  });

  it('decode from OTLP JSON to the same data as from protobuf', () => {
    check(
      fc.property(requests[signal], fc.boolean(), (obj, unknownField) => {
        const json = toOtlpJson(type, obj);
        if (unknownField) json.someFutureField = { ignored: [1, 'x'] };
        const decoded = decodeRequest(signal, Buffer.from(JSON.stringify(json)), 'json');
        expect(canonical(type, decoded as never)).toEqual(canonical(type, type.decode(protobufOf(signal, obj))));
      }),
      { scale: 0.5 },
    );
  });

  it('refuse truncated and bit-flipped protobuf with a DecodeError only, or decode it as protobufjs does', () => {
    const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 4 });
    check(
      fc.property(requests[signal], fc.double({ min: 0, max: 1, noNaN: true }), flips, (obj, cut, bits) => {
        const body = damaged(protobufOf(signal, obj), cut, bits);
        const mine = decodeOrError(signal, body, 'protobuf');
        const ref = reference(signal, body);
        if (mine.error === undefined && ref.error === undefined) expect(mine.value).toStrictEqual(ref.value);
      }),
      { scale: 0.5 },
    );
  });

  it('refuse garbled JSON with a DecodeError only', () => {
    const edit = fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '0', '-', 'e', 'n', '\\', ' ', 'x') , maxLength: 3 }));
    check(
      fc.property(requests[signal], fc.array(edit, { minLength: 1, maxLength: 3 }), (obj, edits) => {
        let text = JSON.stringify(toOtlpJson(type, obj));
        for (const [at, remove, insert] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + remove);
        }
        decodeOrError(signal, Buffer.from(text), 'json');
      }),
    );
  });

  it('refuse JSON with values of the wrong type anywhere with a DecodeError only', () => {
    check(
      fc.property(requests[signal], fc.nat(), fc.jsonValue({ maxDepth: 2 }), (obj, at, value) => {
        const json: unknown = toOtlpJson(type, obj);
        // replace the `at`-th node of the document (in pre-order) by `value`
        let n = at % (countNodes(json) + 1);
        const replace = (node: unknown): unknown => {
          if (n-- === 0) return value;
          if (Array.isArray(node)) return node.map(replace);
          if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replace(v)]));
          return node;
        };
        decodeOrError(signal, Buffer.from(JSON.stringify(replace(json))), 'json');
      }),
    );
  });
});

function countNodes(node: unknown): number {
  if (Array.isArray(node)) return 1 + node.reduce((n: number, x) => n + countNodes(x), 0);
  if (node !== null && typeof node === 'object') return 1 + Object.values(node).reduce((n: number, x) => n + countNodes(x), 0);
  return 1;
}
