import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SpanDedupe } from '../../../src/metrics/span-dedupe.js';

const ids = (n: number) => Array.from({ length: n }, () => ({ trace: randomBytes(16), span: randomBytes(8) }));

describe('SpanDedupe', () => {
  it('reports each id once within the window, and again once it has expired', () => {
    const d = new SpanDedupe(1000, 100);
    const [a, b] = ids(2);
    expect(d.firstSighting(a.trace, a.span, 0)).toBe(true);
    expect(d.firstSighting(a.trace, a.span, 10)).toBe(false);
    expect(d.firstSighting(b.trace, b.span, 600)).toBe(true);
    d.expire(1001);
    expect(d.expired).toBe(1);
    expect(d.firstSighting(a.trace, a.span, 1002)).toBe(true);
    expect(d.firstSighting(b.trace, b.span, 1003)).toBe(false);
  });

  it('tells the same span id in two traces apart', () => {
    const d = new SpanDedupe(1000, 10);
    const span = randomBytes(8);
    expect(d.firstSighting(randomBytes(16), span, 0)).toBe(true);
    expect(d.firstSighting(randomBytes(16), span, 0)).toBe(true);
  });

  it('agrees with a reference set through many insertions and evictions at the bound', () => {
    const max = 1000;
    const d = new SpanDedupe(60_000, max);
    const all = ids(20_000);
    const order: string[] = [];
    const live = new Set<string>();
    for (let n = 0; n < 60_000; n++) {
      // Mostly new ids, some recent repeats, some long-forgotten ones.
      const pick = n < 20_000 ? all[n] : all[Math.floor(Math.random() * 20_000)];
      const key = pick.trace.toString('hex') + pick.span.toString('hex');
      const expected = !live.has(key);
      expect(d.firstSighting(pick.trace, pick.span, n / 10)).toBe(expected);
      if (expected) {
        live.add(key);
        order.push(key);
        if (live.size > max) live.delete(order.splice(0, 1)[0]);
      }
    }
    expect(d.size).toBe(max);
    expect(d.evicted).toBeGreaterThan(0);
  });
});
