import { describe, expect, it } from 'vitest';
import { InsertionOrder } from './insertion-order.js';
import { Random } from './random.js';

describe('InsertionOrder', () => {
  it('evicts exactly what map.keys().next() would, through inserts, moves to the end and evictions', () => {
    const rng = new Random(3);
    const cap = 50;
    const plain = new Map<string, number>();
    const tracked = new Map<string, number>();
    const stamps: number[] = [];
    let slots = 0;
    const order = new InsertionOrder<string>();
    let stamp = 0;
    for (let step = 0; step < 20_000; step++) {
      const key = `k${rng.int(200)}`;
      if (!plain.has(key)) {
        plain.set(key, step);
        const slot = slots++;
        tracked.set(key, slot);
        stamps[slot] = stamp;
        order.push(key, stamp++);
        if (plain.size > cap) {
          const expected = plain.keys().next().value!;
          plain.delete(expected);
          const got = order.shift(tracked, stamps)!;
          tracked.delete(got);
          expect(got).toBe(expected);
        }
      } else if (rng.next() < 0.3) {
        // moved to the end
        plain.delete(key);
        plain.set(key, step);
        stamps[tracked.get(key)!] = stamp;
        order.push(key, stamp++);
        order.prune(tracked, stamps);
      }
      expect([...tracked.keys()].sort()).toEqual([...plain.keys()].sort());
    }
    // stale entries stay bounded
    expect(order.length).toBeLessThanOrEqual(2 * cap + 1024 + 1);
  });
});
