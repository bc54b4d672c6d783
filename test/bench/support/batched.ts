/**
 * batched: the harness of the stage-core benchmarks (cores-signal, cores-trading). A fast
 * operation is timed in batches (the timer costs more than one op), so a row's percentiles are
 * over batch means and its p99 understates single-op tails; rows print as one aligned table.
 */
import { type Summary, summarize } from "./bus-stats.ts";

/** timeBatched runs op(i) for i in [0, count) in batches of `batch`; returns per-op ns per batch. */
export function timeBatched(count: number, batch: number, op: (i: number) => void): Float64Array {
  const batches = Math.floor(count / batch);
  const out = new Float64Array(batches);
  for (let b = 0; b < batches; b++) {
    const base = b * batch;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) op(base + i);
    out[b] = Number(process.hrtime.bigint() - t0) / batch;
  }
  return out;
}

export interface BenchRow {
  name: string;
  /** Percentiles and mean in `unit`. */
  s: Summary;
  unit: "ns" | "µs";
}

/** BenchRows collects the rows of one benchmark run and prints them. */
export class BenchRows {
  readonly rows: BenchRow[] = [];

  /** report adds a row for `samples` (ns) shown in `unit`; returns the summary in ns. */
  report(name: string, samples: ArrayLike<number>, unit: "ns" | "µs" = "ns"): Summary {
    const s = summarize(samples);
    const k = unit === "µs" ? 1e-3 : 1;
    this.rows.push({
      name,
      unit,
      s: { n: s.n, p50: s.p50 * k, p99: s.p99 * k, p999: s.p999 * k, mean: s.mean * k },
    });
    return s;
  }

  /** print writes `title`, a header line and one line a row (names padded to `nameWidth`). */
  print(title: string, nameWidth: number): void {
    console.log(title);
    const head = ["p50", "p99", "p99.9", "mean"].map((h) => h.padStart(9)).join(" ");
    console.log(`${"operation".padEnd(nameWidth)} ${head}`);
    for (const r of this.rows) {
      const f = (v: number) => `${v.toFixed(r.unit === "µs" ? 2 : 0)} ${r.unit}`.padStart(9);
      console.log(
        `${r.name.padEnd(nameWidth)} ${f(r.s.p50)} ${f(r.s.p99)} ${f(r.s.p999)} ${f(r.s.mean)}`,
      );
    }
  }
}
