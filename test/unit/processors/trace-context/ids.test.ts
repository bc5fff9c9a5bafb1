import { describe, expect, it } from 'vitest';
import { idToHex } from '../../../../src/otlp/values.js';
import { datadogSpanId, datadogTraceId, flagsValue, hexSpanId, hexTraceId, spanIdValue, traceIdValue, xrayTraceId } from '../../../../src/processors/trace-context/ids.js';

const hex = (r: unknown) => (r instanceof Uint8Array ? idToHex(r) : r);

describe('decimal 64-bit ids (Datadog)', () => {
  it('converts exactly, as BigInt does, across the whole unsigned 64-bit range', () => {
    const samples = ['1', '9', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '1234567890123456789', '9999999999999999999', '18446744073709551615'];
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 2000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      samples.push((x >> BigInt(i % 64)).toString());
    }
    for (const s of samples) {
      if (s === '0') continue;
      const want = BigInt(s).toString(16).padStart(16, '0');
      expect(hex(datadogSpanId(s)), s).toBe(want);
      expect(hex(datadogTraceId(s)), s).toBe('0'.repeat(16) + want);
    }
  });

  it('refuses what is past 64 bits, zero, and numbers JSON.parse already rounded', () => {
    expect(datadogTraceId('18446744073709551616')).toBe('out_of_range');
    expect(datadogTraceId('99999999999999999999')).toBe('out_of_range');
    expect(datadogSpanId('123456789012345678901')).toBe('out_of_range');
    expect(datadogTraceId('00000000000000000000')).toBe('all_zero');
    expect(datadogTraceId(12345678901234567890)).toBe('imprecise_number');
    expect(datadogTraceId(-5)).toBe('out_of_range');
    expect(hex(datadogTraceId(42))).toBe('0'.repeat(30) + '2a');
    expect(datadogTraceId('0')).toBeUndefined();
    expect(datadogTraceId('')).toBeUndefined();
  });
});

describe('hex ids', () => {
  it('says why an id is refused', () => {
    expect(hexTraceId('4bf92f3577b34da6a3ce929d0e0e473')).toBe('wrong_length');
    expect(hexTraceId('4bf92f3577b34da6a3ce929d0e0e473g')).toBe('not_hex');
    expect(hexTraceId('4bf92f3577b34da6a3ce929d0e0e47é6')).toBe('not_hex');
    expect(hexTraceId('0'.repeat(32))).toBe('all_zero');
    expect(hexSpanId('00f067aa0ba902b')).toBe('wrong_length');
    expect(hexSpanId('0'.repeat(16))).toBe('all_zero');
  });

  it('left-pads 64-bit trace ids and reads any case', () => {
    expect(hex(hexTraceId('A3CE929D0E0E4736'))).toBe('0000000000000000a3ce929d0e0e4736');
    expect(hex(hexTraceId('x4bf92f3577b34da6a3ce929d0e0e4736x', 1, 33))).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('joins the two parts of an X-Ray id', () => {
    const text = '1-5759e988-bd862e3fe1be46a994272793';
    expect(hex(xrayTraceId(text, 2, 11))).toBe('5759e988bd862e3fe1be46a994272793');
  });
});

describe('trace flags', () => {
  it('reads hex bytes, numbers and sampled booleans', () => {
    expect(flagsValue('01')).toBe(1);
    expect(flagsValue('00')).toBe(0);
    expect(flagsValue('03')).toBe(3);
    expect(flagsValue(1)).toBe(1);
    expect(flagsValue(true)).toBe(1);
    expect(flagsValue('False')).toBe(0);
    expect(flagsValue('True')).toBe(1);
    expect(flagsValue('sampled')).toBe('bad_flags');
    expect(flagsValue(300)).toBe('bad_flags');
    expect(flagsValue('')).toBeUndefined();
  });
});

describe('ids sharing a slab', () => {
  it('a refused id leaves nothing behind: a 64-bit id decoded next is still left-padded with zeros, and earlier ids keep their bytes', () => {
    const ids: Uint8Array[] = [];
    // Enough ids to fill several slabs, each followed by refused ones that wrote bytes first.
    for (let i = 1; i <= 600; i++) {
      const t = hexTraceId(i.toString(16).padStart(32, 'f'));
      expect(hexTraceId('0'.repeat(32))).toBe('all_zero');
      expect(xrayTraceId('00000000' + '0'.repeat(24), 0, 8)).toBe('all_zero');
      // Writes 0xff bytes where the next (padded) id's zeros go, then is refused.
      expect(hexTraceId('f'.repeat(31) + 'g')).toBe('not_hex');
      const short = hexTraceId(i.toString(16).padStart(16, '0'));
      const span = datadogSpanId(String(i));
      ids.push(t as Uint8Array, short as Uint8Array, span as Uint8Array);
    }
    for (let i = 1; i <= 600; i++) {
      expect(idToHex(ids[3 * (i - 1)])).toBe(i.toString(16).padStart(32, 'f'));
      expect(idToHex(ids[3 * (i - 1) + 1])).toBe(i.toString(16).padStart(32, '0'));
      expect(idToHex(ids[3 * (i - 1) + 2])).toBe(i.toString(16).padStart(16, '0'));
    }
  });
});

describe('a repeated id', () => {
  it('is decoded once and shared; absent and refused values are never taken for it', () => {
    const T = '4bf92f3577b34da6a3ce929d0e0e4736';
    const S = '00f067aa0ba902b7';
    expect(traceIdValue('')).toBeUndefined();
    expect(spanIdValue('')).toBeUndefined();
    const a = traceIdValue(T) as Uint8Array;
    const b = traceIdValue(`${T}`.slice(0)) as Uint8Array;
    expect(idToHex(a)).toBe(T);
    expect(b).toBe(a);
    expect(traceIdValue('')).toBeUndefined();
    expect(traceIdValue('abc')).toBe('wrong_length');
    expect(traceIdValue('0'.repeat(32))).toBe('all_zero');
    expect(traceIdValue(T)).toBe(a);
    const other = traceIdValue(`${T.slice(0, 31)}7`) as Uint8Array;
    expect(idToHex(other)).toBe(`${T.slice(0, 31)}7`);
    expect(idToHex(a)).toBe(T);
    const s = spanIdValue(S) as Uint8Array;
    expect(spanIdValue(S)).toBe(s);
    expect(idToHex(s)).toBe(S);
    expect(spanIdValue(T)).toBe('wrong_length');
  });
});
