import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSize } from '../../../src/config/units.js';

describe('durations and sizes', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5', '5 parsecs', 's', '-1s', ''])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('formats back to the largest whole unit', () => {
    expect([0, 250, 5000, 90_000, 120_000, 7_200_000].map(formatDuration)).toEqual(['0s', '250ms', '5s', '90s', '2m', '2h']);
  });

  it.each([
    ['1048576', 1048576],
    ['64MiB', 64 * 1024 * 1024],
    ['1GB', 1e9],
    ['10 kib', 10240],
  ])('parses size %s', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it('refuses a size without a number', () => expect(parseSize('a lot')).toBeUndefined());
});
