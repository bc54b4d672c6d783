/**
 * EventQueue is the backtest's one scheduler: a binary min-heap of timed callbacks ordered by
 * (time, then the order they were scheduled in), so two runs schedule and pop in the same order
 * and the simulation is deterministic. No timer, no wall clock: time is whatever the queue says.
 */
export interface Scheduled {
  atNs: bigint;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** nextAt is the time of the earliest event, or undefined when the queue is empty. */
  nextAt(): bigint | undefined {
    return this.heap[0]?.atNs;
  }

  schedule(atNs: bigint, run: () => void): void {
    const item: Scheduled = { atNs, seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  /** pop removes and returns the earliest event. */
  pop(): Scheduled | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** runUntil runs, in order, every event due before `limitNs` (or at it, when `inclusive`). */
  runUntil(limitNs: bigint, inclusive: boolean): void {
    for (;;) {
      const at = this.heap[0]?.atNs;
      if (at === undefined || at > limitNs || (!inclusive && at === limitNs)) return;
      this.pop()!.run();
    }
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.atNs < b.atNs || (a.atNs === b.atNs && a.seq < b.seq);
}
