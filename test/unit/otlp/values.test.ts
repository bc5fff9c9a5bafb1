import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idToHex } from '../../../src/otlp/values.js';

describe('idToHex', () => {
  it('spells every byte value as Buffer hex does', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let at = 0; at < 256; at += 32) {
      const id = all.subarray(at, at + 32);
      expect(idToHex(id)).toBe(Buffer.from(id).toString('hex'));
    }
  });

  it('gives the same as Buffer hex for ids of every length, views into larger buffers included', () => {
    for (let len = 0; len <= 40; len++) {
      const backing = randomBytes(len + 7);
      const id = new Uint8Array(backing.buffer, backing.byteOffset + 3, len);
      expect(idToHex(id)).toBe(Buffer.from(id).toString('hex'));
    }
  });

  it('returns a string of its own each time (the scratch is not shared with earlier results)', () => {
    const a = idToHex(Uint8Array.from([0xab, 0xcd]));
    const b = idToHex(Uint8Array.from([0x01, 0x23]));
    expect([a, b]).toEqual(['abcd', '0123']);
    expect(idToHex(null)).toBe('');
    expect(idToHex(undefined)).toBe('');
  });
});
