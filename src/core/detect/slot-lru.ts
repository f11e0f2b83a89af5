/**
 * Keys (request ids, session keys …) given small integer slots, for detectors that keep what they
 * know of each key in tables indexed by slot rather than in an object per key: such state lives
 * for many lines, and an object per key outlived young collections and was copied and promoted.
 *
 * At most `max` keys are held. A new key takes the next unused slot, or, when all are in use, the
 * slot of the least recently active key, which is evicted. "Active" is approximate, as an LRU at
 * a fraction of the cost: a key moves to the back of the eviction order only when it comes back
 * after at least max/2 newer keys (InsertionOrder keeps that order, see there).
 *
 * After each slotOf(), `added` says whether the key was new (its slot's table entries must be
 * reset) and `evicted` which slot's key was evicted to make room (-1: none; then it is the new key's
 * slot, whose entries still hold the evicted key's until reset).
 *
 * Plain fields only, so detector snapshots can hold it (detector-state.ts).
 */
import { InsertionOrder } from './insertion-order.js';

/** Slots the tables start with; they double as keys are added, up to the limit. */
const FIRST_SLOTS = 64;

/** `a` copied into a new typed array of `length` (the rest zero): a slot table grown to a new capacity. */
export function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

export class SlotLru<K> {
  /** Whether the last slotOf() added its key. */
  added = false;
  /** The slot whose key the last slotOf() evicted, or -1. */
  evicted = -1;
  private readonly slots = new Map<K, number>();
  private readonly order = new InsertionOrder<K>();
  private stamps: Float64Array = new Float64Array(0);
  private used = 0;
  private stamp = 0;

  constructor(private readonly max: number) {}

  /** Keys held. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Slots the key table has room for: a slot slotOf() returns is below it. Callers grow their own
   * tables to it when a slot falls outside them, so every table grows as this one does.
   */
  get capacity(): number {
    return this.stamps.length;
  }

  /** Slots handed out so far. */
  get slotsUsed(): number {
    return this.used;
  }

  /** The slot of a key held, or undefined. */
  get(key: K): number | undefined {
    return this.slots.get(key);
  }

  /** The key's slot, adding the key (and evicting one when full) if it is not held. */
  slotOf(key: K): number {
    let slot = this.slots.get(key);
    this.evicted = -1;
    if (slot === undefined) {
      this.added = true;
      if (this.slots.size >= Math.max(1, this.max)) {
        const oldest = this.order.shift(this.slots, this.stamps)!;
        slot = this.slots.get(oldest)!;
        this.slots.delete(oldest);
        this.evicted = slot;
      } else {
        if (this.used === this.stamps.length) this.grow();
        slot = this.used++;
      }
      this.stamps[slot] = this.stamp++;
      this.slots.set(key, slot);
      this.order.push(key, this.stamps[slot]!);
      return slot;
    }
    this.added = false;
    if (this.stamp - this.stamps[slot]! > this.max / 2) {
      // back of the eviction order, only now and then
      this.slots.delete(key);
      this.stamps[slot] = this.stamp++;
      this.slots.set(key, slot);
      this.order.push(key, this.stamps[slot]!);
      this.order.prune(this.slots, this.stamps);
    }
    return slot;
  }

  /** Forgets every key (slots are handed out from 0 again). */
  clear(): void {
    this.slots.clear();
    this.order.clear();
    this.used = 0;
  }

  private grow(): void {
    this.stamps = grown(this.stamps, Math.min(Math.max(FIRST_SLOTS, this.stamps.length * 2), Math.max(1, this.max)));
  }
}
