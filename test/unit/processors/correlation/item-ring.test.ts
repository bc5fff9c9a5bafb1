import { describe, expect, it } from 'vitest';
import { ITEM_LOG, ITEM_SPAN, ItemRing, NO_ITEM } from '../../../../src/processors/correlation/item-ring.js';

describe('item ring', () => {
  it('keeps items as their bytes, chained newest first, and forgets what newer items overwrite', () => {
    const ring = new ItemRing(1000);
    const message = (i: number) => Buffer.from(`item ${i} `.repeat(8));
    const positions: number[] = [];
    let prev = NO_ITEM;
    for (let i = 0; i < 30; i++) {
      const m = message(i);
      // Taken from the middle of a larger buffer, as from an encoded request.
      const source = Buffer.concat([Buffer.from('xx'), m, Buffer.from('yy')]);
      prev = ring.append(i % 2 ? ITEM_LOG : ITEM_SPAN, prev, i, 7, Buffer.alloc(8, i), null, source, 2, 2 + m.length);
      positions.push(prev);
    }
    expect(ring.used).toBe(1000);
    const held = positions.filter((p) => ring.holds(p));
    expect(held.length).toBeGreaterThan(5);
    expect(held.length).toBeLessThan(30);
    // The held ones are the newest, whole.
    expect(positions.slice(30 - held.length)).toEqual(held);
    for (const p of held) {
      const i = positions.indexOf(p);
      expect(ring.message(p).equals(message(i))).toBe(true);
      expect(ring.header(p)).toMatchObject({ kind: i % 2 ? ITEM_LOG : ITEM_SPAN, resource: i, scope: 7 });
      expect(ring.spanIdIs(p, Buffer.alloc(8, i))).toBe(true);
      expect(ring.parentSpanId(p).equals(Buffer.alloc(8))).toBe(true);
    }
    // The chain from the newest ends where the ring no longer holds the item before.
    const chain: number[] = [];
    for (let p = positions[29]; p !== NO_ITEM; p = ring.prev(p)) chain.push(p);
    expect(chain).toEqual([...held].reverse());
  });

  it('refuses an item larger than the ring', () => {
    const ring = new ItemRing(100);
    expect(ring.append(ITEM_LOG, NO_ITEM, 0, 0, null, null, Buffer.alloc(200), 0, 200)).toBe(NO_ITEM);
    expect(ring.used).toBe(0);
  });
});
