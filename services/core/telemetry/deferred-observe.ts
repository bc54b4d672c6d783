/**
 * deferredObserve: a histogram observation that costs an array store where it is made. A
 * prom-client `observe` walks the buckets and the label map (a few µs on a cold cache); on the
 * tick → order path that is paid several times per order. The values are kept in a small buffer
 * and handed to the histogram right after the synchronous run that made them (one microtask),
 * or at once when the buffer is full, so a scrape never misses more than the run in progress.
 */

/**
 * afterRun returns a function that runs `fn` once, right after the synchronous run that called
 * it (one microtask), however often that run called it: a stage report after an order or a
 * signal, made off the tick → order path and once per run.
 */
export function afterRun(fn: () => void): () => void {
  let queued = false;
  const run = () => {
    queued = false;
    fn();
  };
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(run);
  };
}

/** Observer: what deferredObserve needs of a prom-client Histogram (or Histogram child). */
export interface Observer {
  observe(value: number): void;
}

const CAPACITY = 256;

export function deferredObserve(histogram: Observer): (value: number) => void {
  const values = new Float64Array(CAPACITY);
  let count = 0;
  let queued = false;
  const flush = () => {
    queued = false;
    const n = count;
    count = 0;
    for (let i = 0; i < n; i++) histogram.observe(values[i]!);
  };
  return (value: number) => {
    if (count === CAPACITY) flush();
    values[count++] = value;
    if (!queued) {
      queued = true;
      queueMicrotask(flush);
    }
  };
}
