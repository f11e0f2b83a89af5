/**
 * The oldest entry of a Map used as a bounded LRU, in O(1) amortised.
 *
 * Why not `map.keys().next()`: V8 leaves a deleted Map entry as a hole in its table until the table
 * is rebuilt, and an iterator walks over every hole before the first live entry. A Map that evicts
 * its oldest entry on each insertion keeps thousands of holes at its front, so each eviction walks
 * them all: measured 13 µs per eviction at 20,000 entries (300,000 evictions: 3.8 s), which made
 * following sessions the most expensive part of `vigil analyze`.
 *
 * Here every insertion (a new key, or a key moved to the end by delete + set) is queued with a stamp
 * the caller also keeps in the entry; the oldest live key is the first queued one whose stamp is
 * still its entry's. That is exactly the Map's first key, so the eviction order is unchanged.
 * Plain fields only (no callbacks), so detector snapshots can hold it (detector-state.ts).
 */

/** The map an InsertionOrder follows: each entry carries the stamp it was last set with. */
export type Stamped<K> = ReadonlyMap<K, { stamp: number }>;
export class InsertionOrder<K> {
  private keys: K[] = [];
  private stamps: number[] = [];
  private head = 0;

  /** Records that `key` was set (inserted, or moved to the end) with this stamp. */
  push(key: K, stamp: number): void {
    this.keys.push(key);
    this.stamps.push(stamp);
  }

  /**
   * Removes and returns the oldest key still live in `map` (the key map.keys().next() would give).
   */
  shift(map: Stamped<K>): K | undefined {
    return this.shiftLive((key, stamp) => map.get(key)?.stamp === stamp);
  }

  /**
   * shift() for a map of keys to slots whose stamps are kept apart, in `stamps` by slot (a detector
   * that keeps its entries in tables rather than objects).
   */
  shiftSlot(slots: ReadonlyMap<K, number>, stamps: ArrayLike<number>): K | undefined {
    return this.shiftLive((key, stamp) => {
      const slot = slots.get(key);
      return slot !== undefined && stamps[slot] === stamp;
    });
  }

  /** Queued entries, stale ones included (for tests). */
  get length(): number {
    return this.keys.length - this.head;
  }

  /** Drops stale entries (moved keys' old places) when they outnumber the live ones. */
  prune(map: Stamped<K>): void {
    this.pruneLive(map.size, (key, stamp) => map.get(key)?.stamp === stamp);
  }

  /** prune() for a map of keys to slots, stamps in `stamps` by slot (see shiftSlot). */
  pruneSlots(slots: ReadonlyMap<K, number>, stamps: ArrayLike<number>): void {
    this.pruneLive(slots.size, (key, stamp) => {
      const slot = slots.get(key);
      return slot !== undefined && stamps[slot] === stamp;
    });
  }

  clear(): void {
    this.keys = [];
    this.stamps = [];
    this.head = 0;
  }

  private shiftLive(live: (key: K, stamp: number) => boolean): K | undefined {
    while (this.head < this.keys.length) {
      const i = this.head++;
      const key = this.keys[i]!;
      if (live(key, this.stamps[i]!)) {
        this.compact();
        return key;
      }
    }
    this.compact();
    return undefined;
  }

  private pruneLive(size: number, live: (key: K, stamp: number) => boolean): void {
    if (this.length <= 2 * size + 1024) return;
    const keys: K[] = [];
    const stamps: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (live(this.keys[i]!, this.stamps[i]!)) {
        keys.push(this.keys[i]!);
        stamps.push(this.stamps[i]!);
      }
    }
    this.keys = keys;
    this.stamps = stamps;
    this.head = 0;
  }

  private compact(): void {
    if (this.head >= 4096 && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
}
