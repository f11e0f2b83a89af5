/**
 * The oldest entry of a Map used as a bounded LRU, in O(1) amortised.
 *
 * Why not `map.keys().next()`: V8 leaves a deleted Map entry as a hole in its table until the table
 * is rebuilt, and an iterator walks over every hole before the first live entry. A Map that evicts
 * its oldest entry on each insertion keeps thousands of holes at its front, so each eviction walks
 * them all: measured 13 µs per eviction at 20,000 entries (300,000 evictions: 3.8 s), which made
 * following sessions the most expensive part of `vigil analyze`.
 *
 * Here the map holds each key's slot, and the caller keeps a stamp per slot, set whenever the key
 * is inserted or moved to the end (delete + set); each such insertion is queued with its stamp. The
 * oldest live key is the first queued one whose slot's stamp is still the one queued with it. That
 * is exactly the Map's first key, so the eviction order is unchanged (SlotLru uses it).
 * Plain fields only (no callbacks), so detector snapshots can hold it (detector-state.ts).
 */
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
   * Removes and returns the oldest key still live in `slots` (the key slots.keys().next() would
   * give): the first queued key whose slot's stamp is still the one queued with it.
   */
  shift(slots: ReadonlyMap<K, number>, stamps: ArrayLike<number>): K | undefined {
    while (this.head < this.keys.length) {
      const i = this.head++;
      const key = this.keys[i]!;
      const slot = slots.get(key);
      if (slot !== undefined && stamps[slot] === this.stamps[i]) {
        this.compact();
        return key;
      }
    }
    this.compact();
    return undefined;
  }

  /** Queued entries, stale ones included (for tests). */
  get length(): number {
    return this.keys.length - this.head;
  }

  /** Drops stale entries (moved keys' old places) when they outnumber the live ones. */
  prune(slots: ReadonlyMap<K, number>, stamps: ArrayLike<number>): void {
    if (this.length <= 2 * slots.size + 1024) return;
    const keys: K[] = [];
    const live: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const slot = slots.get(this.keys[i]!);
      if (slot !== undefined && stamps[slot] === this.stamps[i]) {
        keys.push(this.keys[i]!);
        live.push(this.stamps[i]!);
      }
    }
    this.keys = keys;
    this.stamps = live;
    this.head = 0;
  }

  clear(): void {
    this.keys = [];
    this.stamps = [];
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
