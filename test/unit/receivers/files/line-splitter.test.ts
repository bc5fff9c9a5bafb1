import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../../src/receivers/files/line-splitter.js';
import type { RawLine } from '../../../../src/receivers/files/types.js';

function split(chunks: (string | Buffer)[], max = 1 << 20, offset = 0): { lines: RawLine[]; s: LineSplitter } {
  const s = new LineSplitter(max, offset);
  const lines: RawLine[] = [];
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, lines);
  return { lines, s };
}

describe('LineSplitter', () => {
  it('cuts at LF, drops the CR of CRLF and gives each line the offset just past its newline', () => {
    const { lines } = split(['a\r\nbb\n\nccc\n'], 1 << 20, 100);
    expect(lines).toEqual([
      { text: 'a', end: 103, truncated: false },
      { text: 'bb', end: 106, truncated: false },
      { text: '', end: 107, truncated: false },
      { text: 'ccc', end: 111, truncated: false },
    ]);
  });

  it('holds a line written in pieces until its newline comes', () => {
    const { lines, s } = split(['hel', 'lo wo', 'rld\nnext']);
    expect(lines).toEqual([{ text: 'hello world', end: 12, truncated: false }]);
    expect(s.pendingBytes).toBe(4);
    const more: RawLine[] = [];
    s.flushPartial(more);
    expect(more).toEqual([{ text: 'next', end: 16, truncated: false }]);
    expect(s.pendingBytes).toBe(0);
  });

  it('keeps a CR split from its LF across two reads out of the line', () => {
    const { lines } = split(['win\r', '\nnext\n']);
    expect(lines.map((l) => l.text)).toEqual(['win', 'next']);
  });

  it('cuts a line longer than max_line_bytes, flags the cut part and keeps the rest', () => {
    const long = 'x'.repeat(25);
    const { lines, s } = split([long.slice(0, 7), long.slice(7) + '\nshort\n'], 10);
    expect(lines).toEqual([
      { text: 'x'.repeat(10), end: 10, truncated: true },
      { text: 'x'.repeat(10), end: 20, truncated: true },
      { text: 'x'.repeat(5), end: 26, truncated: false },
      { text: 'short', end: 32, truncated: false },
    ]);
    expect(s.stats.truncated).toBe(2);
    // Nothing held past the bound.
    expect(s.pendingBytes).toBe(0);
  });

  it('never cuts inside a UTF-8 character', () => {
    const { lines } = split(['aé€é€é€\n'], 4);
    expect(lines.map((l) => l.text).join('')).toBe('aé€é€é€');
    for (const l of lines) expect(l.text).not.toContain('\uFFFD');
  });

  it('decodes a character split across two reads, ASCII and non-ASCII reads alike, with offsets in bytes', () => {
    const bytes = Buffer.from('plain\ncafé au lait\nnaïve\nascii again\n€\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the é
    const { lines, s } = split([bytes.subarray(0, cut), bytes.subarray(cut, cut + 9), bytes.subarray(cut + 9)]);
    expect(lines.map((l) => l.text)).toEqual(['plain', 'café au lait', 'naïve', 'ascii again', '€']);
    expect(lines.map((l) => l.end)).toEqual([6, 20, 27, 39, 43]);
    expect(s.stats.invalidUtf8).toBe(0);
  });

  it('replaces invalid UTF-8 and counts the line, but not a replacement character the file holds', () => {
    const { lines, s } = split([Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes\nreal \uFFFD here\n')])]);
    expect(lines[0].text).toBe('bad \uFFFD\uFFFD bytes');
    expect(lines[1].text).toBe('real \uFFFD here');
    expect(s.stats.invalidUtf8).toBe(1);
  });

  it('starts over at a given offset after reset (truncation)', () => {
    const { s } = split(['abc\npartial'], 1 << 20, 0);
    s.reset(0);
    const out: RawLine[] = [];
    s.push(Buffer.from('new\n'), out);
    expect(out).toEqual([{ text: 'new', end: 4, truncated: false }]);
  });
});
