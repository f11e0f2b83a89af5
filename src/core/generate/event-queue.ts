/** A min-heap of timed events: earliest time first, and among equal times the one scheduled first. */
export interface TimedEvent<T> {
  t: number;
  seq: number;
  value: T;
}

export class EventQueue<T> {
  private readonly items: TimedEvent<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(t: number, value: T): void {
    const a = this.items;
    const e: TimedEvent<T> = { t, seq: this.seq++, value };
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = a[p]!;
      if (q.t < t || (q.t === t && q.seq < e.seq)) break;
      a[i] = q;
      i = p;
    }
    a[i] = e;
  }

  pop(): TimedEvent<T> | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    const n = a.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (a[r]!.t < a[l]!.t || (a[r]!.t === a[l]!.t && a[r]!.seq < a[l]!.seq))) c = r;
      const x = a[c]!;
      if (last.t < x.t || (last.t === x.t && last.seq < x.seq)) break;
      a[i] = x;
      i = c;
    }
    a[i] = last;
    return top;
  }
}
