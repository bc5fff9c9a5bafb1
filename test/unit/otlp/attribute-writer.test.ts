import { describe, expect, it } from 'vitest';
import { beginAttributes, endAttributes, writeAttribute } from '../../../src/otlp/attribute-writer.js';
import { decodeAttributes } from '../../../src/otlp/request-decoder.js';
import { encodeLogRecord } from '../../../src/otlp/request-encoder.js';
import { keyValue } from '../../../src/otlp/values.js';

let seed = 42;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];

/** A value as JSON.parse or a text parser gives it. */
function value(depth: number): unknown {
  const kind = pick(depth > 3 ? ['s', 'i', 'd', 'b', 'n'] : ['s', 'i', 'd', 'b', 'n', 'a', 'o']);
  switch (kind) {
    case 's':
      return pick(['', 'x', 'plain ascii text', 'é', 'こんにちは', '🙂 emoji', 'a'.repeat(30), 'b'.repeat(100) + 'ü', '\u0000\n"\\']);
    case 'i':
      return pick([0, 1, -1, 127, 128, 300, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 4242]);
    case 'd':
      return pick([0.5, -12.25, 1e300, 2 ** 53 + 2, -(2 ** 60), Number.MIN_VALUE]);
    case 'b':
      return random() < 0.5;
    case 'n':
      return null;
    case 'a':
      return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}${pick(['', '.x', 'é'])}`, value(depth + 1)]));
  }
}

function written(fields: Record<string, unknown>): Uint8Array {
  beginAttributes();
  for (const [k, v] of Object.entries(fields)) writeAttribute(k, v);
  return Buffer.from(endAttributes());
}

describe('attribute writer', () => {
  it('writes the bytes the request encoder writes for the same attributes as KeyValues, and they decode to them', () => {
    for (let n = 0; n < 2000; n++) {
      const fields = Object.fromEntries(Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => [pick(['msg', 'user', 'route', 'ctx', 'ü']) + i, value(0)]));
      const attributes = Object.entries(fields).map(([k, v]) => keyValue(k, v));
      const bytes = written(fields);
      expect(bytes).toEqual(encodeLogRecord({ attributes }));
      expect(decodeAttributes(Buffer.from(bytes))).toEqual(attributes);
    }
  });

  it('keeps a value nested past what protobuf decoders take as its JSON text', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 60; i++) deep = { d: [deep] };
    const [attribute] = decodeAttributes(Buffer.from(written({ deep })));
    // Kept as objects and arrays as deep as decoders go, then as the JSON text of what is below.
    let v = attribute.value!;
    let original: unknown = deep;
    let levels = 0;
    for (;;) {
      if (v.kvlistValue) {
        v = v.kvlistValue.values[0].value!;
        original = (original as { d: unknown }).d;
      } else if (v.arrayValue) {
        v = v.arrayValue.values[0];
        original = (original as unknown[])[0];
      } else break;
      levels++;
    }
    expect(levels).toBeGreaterThan(30);
    expect(levels).toBeLessThan(120);
    expect(JSON.parse(v.stringValue!)).toEqual(original);
    // And the record as a whole encodes and decodes (no depth error anywhere).
    expect(() => encodeLogRecord({ attributes: decodeAttributes(Buffer.from(written({ deep }))) })).not.toThrow();
  });

  it('moves a record that does not fit in what is left of its chunk, and earlier records keep their bytes', () => {
    const views: Uint8Array[] = [];
    const copies: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      beginAttributes();
      writeAttribute('i', i);
      writeAttribute('text', `${i} `.repeat(200 + i));
      const view = endAttributes();
      views.push(view);
      copies.push(Buffer.from(view));
    }
    for (let i = 0; i < 300; i++) {
      expect(Buffer.from(views[i]).equals(copies[i])).toBe(true);
      expect(decodeAttributes(Buffer.from(views[i]))).toEqual([keyValue('i', i), keyValue('text', `${i} `.repeat(200 + i))]);
    }
  });
});
