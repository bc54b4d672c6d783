/**
 * FeedFifo holds the records the venue has seen and the kernel has not yet received, each with
 * its receive time, in arrival order. A ring of two parallel arrays: pushing and taking move an
 * index, nothing is copied or reallocated until the ring is full (then it doubles, in order).
 * The feed is FIFO by construction (receive times never go backwards), so it needs no heap.
 */
export class FeedFifo<T> {
  private items: (T | undefined)[];
  private times: bigint[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(capacity = 1024) {
    let cap = 1;
    while (cap < capacity) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.times = new Array<bigint>(cap).fill(0n);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** nextAt is the receive time of the oldest record; check `size` first. */
  nextAt(): bigint {
    return this.times[this.head]!;
  }

  push(item: T, atNs: bigint): void {
    if (this.count > this.mask) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.items[i] = item;
    this.times[i] = atNs;
    this.count++;
  }

  /** take removes and returns the oldest record (its time was nextAt()); check `size` first. */
  take(): T {
    const i = this.head;
    const item = this.items[i]!;
    this.items[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    return item;
  }

  private grow(): void {
    const cap = this.mask + 1;
    const items = new Array<T | undefined>(cap * 2).fill(undefined);
    const times = new Array<bigint>(cap * 2).fill(0n);
    for (let k = 0; k < this.count; k++) {
      items[k] = this.items[(this.head + k) & this.mask];
      times[k] = this.times[(this.head + k) & this.mask]!;
    }
    this.items = items;
    this.times = times;
    this.head = 0;
    this.mask = cap * 2 - 1;
  }
}
