import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random.js';
import { SlotLru } from './slot-lru.js';

describe('SlotLru', () => {
  it('hands out slots in order, then evicts the least recently active key and gives its slot to the new one', () => {
    const lru = new SlotLru<string>(3);
    expect(['a', 'b', 'c'].map((k) => lru.slotOf(k))).toEqual([0, 1, 2]);
    expect(lru.added).toBe(true);
    // 'a' comes back after more than max/2 newer keys: to the back of the eviction order
    expect(lru.slotOf('a')).toBe(0);
    expect([lru.added, lru.evicted]).toEqual([false, -1]);
    // full: the new key takes the least recently active key's slot ('b')
    expect(lru.slotOf('d')).toBe(1);
    expect([lru.added, lru.evicted, lru.get('b'), lru.get('a'), lru.size, lru.slotsUsed]).toEqual([true, 1, undefined, 0, 3, 3]);
    lru.clear();
    expect([lru.size, lru.slotOf('z')]).toEqual([0, 0]);
  });

  it('evicts what a Map kept in least-recently-refreshed order would (a key refreshed after max/2 newer keys)', () => {
    const max = 50;
    const lru = new SlotLru<string>(max);
    // the reference: a Map in eviction order, with the same refresh rule
    const ref = new Map<string, number>();
    const slotOfRef = new Map<string, number>();
    let stamp = 0;
    const rnd = mulberry32(7);
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(rnd() * (rnd() < 0.7 ? 60 : 400))}`;
      const slot = lru.slotOf(key);
      const had = ref.get(key);
      if (had === undefined) {
        let freed: number | undefined;
        if (ref.size >= max) {
          const oldest = ref.keys().next().value!;
          ref.delete(oldest);
          freed = slotOfRef.get(oldest);
          slotOfRef.delete(oldest);
        }
        ref.set(key, stamp++);
        expect(lru.added).toBe(true);
        expect(lru.evicted).toBe(freed ?? -1);
        if (freed !== undefined) expect(slot).toBe(freed);
        slotOfRef.set(key, slot);
      } else {
        expect(lru.added).toBe(false);
        expect(slot).toBe(slotOfRef.get(key));
        if (stamp - had > max / 2) {
          ref.delete(key);
          ref.set(key, stamp++);
        }
      }
      expect(lru.size).toBe(ref.size);
    }
  });
});
