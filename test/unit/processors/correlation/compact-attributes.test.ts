import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../../src/otlp/codec.js';
import type { KeyValue } from '../../../../src/otlp/types.js';
import { jsonAttributes, keyValue } from '../../../../src/otlp/values.js';
import { compactAttributes, compactAttributesJson, StringTable } from '../../../../src/processors/correlation/compact-attributes.js';

/** Attributes of every kind, as a decoded OTLP request carries them (prototype defaults and all). */
function decoded(attributes: KeyValue[]): KeyValue[] {
  const req = encodeRequest('traces', {
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 's', startTimeUnixNano: Long.UONE, endTimeUnixNano: Long.UONE, attributes }] }] }],
  });
  return decodeRequest('traces', req, 'protobuf').resourceSpans[0].scopeSpans[0].spans[0].attributes ?? [];
}

const EVERY_KIND: KeyValue[] = [
  keyValue('text', 'GET /orders'),
  keyValue('empty text', ''),
  keyValue('yes', true),
  keyValue('no', false),
  keyValue('small', 200),
  keyValue('negative', -17),
  keyValue('past 31 bits', 5_000_000_000),
  { key: 'past 53 bits', value: { intValue: Long.fromString('9007199254740993') } },
  { key: 'int64 min', value: { intValue: Long.fromString('-9223372036854775808') } },
  keyValue('double', 42.1),
  { key: 'integral double', value: { doubleValue: 3 } },
  { key: 'nan', value: { doubleValue: NaN } },
  { key: 'infinite', value: { doubleValue: -Infinity } },
  keyValue('bytes', new Uint8Array([0, 1, 254, 255])),
  keyValue('list', ['a', 1, [true]]),
  keyValue('map', { user: { id: 7, roles: ['admin'] } }),
  { key: 'no value', value: {} },
  { key: 'text', value: { stringValue: 'a repeated key: the later one wins' } },
];

describe('compact attributes', () => {
  it('show as JSON exactly what the attributes they came from show, for every kind of value', () => {
    for (const attributes of [EVERY_KIND, decoded(EVERY_KIND)]) {
      const kept = compactAttributes(attributes, 64, new StringTable());
      expect(kept.dropped).toBe(0);
      expect(compactAttributesJson(kept.attributes)).toStrictEqual(jsonAttributes(attributes));
    }
  });

  it('estimate each value by its own kind, whatever value came before it', () => {
    const keys = new StringTable();
    const bytes = (attributes: KeyValue[]) => compactAttributes(attributes, 64, keys).bytes;
    const before = [keyValue('b', 'x'.repeat(300)), keyValue('b', 5_000_000_000), keyValue('b', ['list']), keyValue('b', true)];
    for (const attributes of [EVERY_KIND, decoded(EVERY_KIND)]) {
      for (const kv of attributes) {
        const adds = new Set(before.map((b) => bytes([b, kv]) - bytes([b])));
        expect(adds.size, kv.key).toBe(1);
      }
    }
    const one = (kv: KeyValue) => bytes([kv]);
    expect(one(keyValue('k', 'x'.repeat(200))) - one(keyValue('k', 'x'.repeat(100)))).toBe(200);
    expect(one(keyValue('k', true))).toBe(one({ key: 'k', value: {} }));
    expect(one(keyValue('k', 200))).toBe(one(keyValue('k', true))); // a small integer is not boxed
    expect(one(keyValue('k', 42.1))).toBeGreaterThan(one(keyValue('k', 200)));
    expect(one(keyValue('k', ['a', 'b']))).toBeGreaterThan(one(keyValue('k', 'ab')));
  });

  it('keep the first attributes up to the limit and count the rest as dropped', () => {
    const attributes = Array.from({ length: 40 }, (_, i) => keyValue(`k${i}`, i));
    const kept = compactAttributes(attributes, 32, new StringTable());
    expect(kept.dropped).toBe(8);
    expect(Object.keys(compactAttributesJson(kept.attributes))).toEqual(attributes.slice(0, 32).map((kv) => kv.key));
    expect(compactAttributes([], 32, new StringTable()).attributes).toEqual([]);
  });

  it('share one copy of each key, and count a key the table does not hold in the estimate', () => {
    const keys = new StringTable(1);
    // Keys built at run time: equal strings, distinct objects.
    const a = compactAttributes([keyValue(['http', 'route'].join('.'), '/a')], 32, keys);
    const b = compactAttributes([keyValue(['http', 'route'].join('.'), '/b')], 32, keys);
    expect(a.attributes[0]).toBe(b.attributes[0]);
    expect(a.bytes).toBe(b.bytes);
    // The table is full: a new key is kept as it is, and costs the summary its bytes.
    const c = compactAttributes([keyValue('http.method', '/a')], 32, keys);
    expect(c.bytes).toBeGreaterThan(a.bytes);
  });
});

describe('string table', () => {
  it('returns the shared copy of a string it holds, and nothing for strings past its bounds', () => {
    const table = new StringTable(2, 8);
    const first = table.intern(String.fromCharCode(65, 66));
    expect(table.intern(String.fromCharCode(65, 66))).toBe(first);
    expect(table.intern('too long for it')).toBeUndefined();
    expect(table.intern('second')).toBe('second');
    expect(table.intern('third')).toBeUndefined();
    // What it holds stays held.
    expect(table.intern('AB')).toBe(first);
  });
});
