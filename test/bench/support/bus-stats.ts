/** Percentiles and formatting for the benchmarks (bus, pipeline, the stage cores). */

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
}

/** summarize sorts a copy of `samples` (ns) and reads exact percentiles (nearest rank). */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    mean: sum / sorted.length,
  };
}

export const us = (ns: number): string => (ns / 1000).toFixed(1);

/** table renders rows as a Markdown table with right-aligned numeric columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
