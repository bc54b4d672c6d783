/**
 * pipeline-breakdown: splits each measured tick → order path into its parts, from the probe's
 * stamps (test/bench/support/pipeline-probe.ts). For each order-written stamp W: the order
 * intent is the last one the execution-engine received before W (journal-ahead: it is journaled
 * and written in the same synchronous run), its journal append the last one before W, and its
 * audit rows committed by the first write-behind commit at or after W; the tick is the frame the
 * intent descends from, named by the intent's
 * `origin_time_ns` (the market-data stage's wall clock, turned into CLOCK_MONOTONIC with that
 * process's offset), so a slow order is never paired with a later tick. Every other point is
 * the first stamp of its kind in [F, W] taken in the process that plays the role (in the fused
 * run every role is the one process); each stage handles its input in order, so that is the
 * tick's own.
 */
import type { Probes } from "./pipeline-run.ts";
import { type Percentiles, percentiles } from "./pipeline-stats.ts";

/** StageRoles names the probe role of each stage's process ("fused" for all, fused). */
export interface StageRoles {
  md: string;
  sb: string;
  risk: string;
  ee: string;
}

type Point =
  | "frame"
  | "quotePub"
  | "quoteRecv"
  | "signalPub"
  | "signalRecv"
  | "intentPub"
  | "intentRecv"
  | "journaled"
  | "written"
  | "auditEnd";

/** SEGMENTS: label → [from, to]; labels starting with two spaces are parts of the line above. */
export const SEGMENTS: ReadonlyArray<readonly [string, Point, Point]> = [
  ["tick → intent in at the execution-engine", "frame", "intentRecv"],
  ["frame → signal published", "frame", "signalPub"],
  ["  frame → quote published (decode, book, market-data core)", "frame", "quotePub"],
  ["  hop md.quote (market-data → signal-bridge)", "quotePub", "quoteRecv"],
  ["  quote in → signal published (signal-bridge)", "quoteRecv", "signalPub"],
  ["signal → intent published", "signalPub", "intentPub"],
  ["  hop signal (signal-bridge → risk-manager)", "signalPub", "signalRecv"],
  ["  signal in → intent published (risk-manager)", "signalRecv", "intentPub"],
  ["intent → POST written", "intentPub", "written"],
  ["  hop order.intent (risk-manager → execution-engine)", "intentPub", "intentRecv"],
  ["  intent in → journal appended (execution core, record, writeSync)", "intentRecv", "journaled"],
  ["  journal appended → POST written (order connection, or undici)", "journaled", "written"],
  ["tick → POST written (whole path)", "frame", "written"],
  ["POST written → its audit rows committed (write-behind lag)", "written", "auditEnd"],
];

const sorted = (a: readonly bigint[] | undefined) =>
  [...(a ?? [])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

/** firstAtOrAfter: index of the first element ≥ t in an ascending array. */
function firstAtOrAfter(a: readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * breakdown returns, per segment, the percentiles over the measured ticks in [fromNs, toNs]
 * (the first `warmup` dropped); segments whose stamps are missing are left out.
 */
export function breakdown(
  p: Probes,
  roles: StageRoles,
  fromNs: bigint,
  toNs: bigint,
  warmup: number,
): Record<string, Percentiles> {
  const of = (role: string, name: string) => sorted(p.byRole[role]?.[name]);
  const frames = sorted(p.frames);
  const series: Partial<Record<Point, bigint[]>> = {
    quotePub: of(roles.md, "pub:md.quote"),
    quoteRecv: of(roles.sb, "recv:md.quote"),
    signalPub: of(roles.sb, "pub:signal"),
    signalRecv: of(roles.risk, "recv:signal"),
    intentPub: of(roles.risk, "pub:order.intent"),
  };
  const ee = p.byRole[roles.ee] ?? {};
  const origins = ee["origin:order.intent"] ?? [];
  const intents = (ee["recv:order.intent"] ?? [])
    .map((at, i) => ({ at, origin: origins[i] ?? 0n }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const intentTimes = intents.map((x) => x.at);
  const mdOffset = p.wallOffsets[roles.md] ?? 0n;
  const journaled = sorted(ee["journal:end"]);
  const auditEnds = sorted(ee["audit:end"]);
  const samples = SEGMENTS.map(() => [] as number[]);
  for (const w of sorted(p.written)) {
    if (w < fromNs || w > toNs) continue;
    // Journal-ahead: the order's intent arrived, was journaled and written in one run, so the
    // intent behind a write is the last one received before it.
    const ii = firstAtOrAfter(intentTimes, w + 1n) - 1;
    if (ii < 0 || intents[ii]!.origin === 0n) continue;
    // The origin stamp follows the frame stamp by the client's decode; 1 µs covers clock reads.
    const originMono = intents[ii]!.origin - mdOffset;
    const fi = firstAtOrAfter(frames, originMono + 1_000n) - 1;
    if (fi < 0 || frames[fi]! < fromNs) continue;
    const f = frames[fi]!;
    const ji = firstAtOrAfter(journaled, w + 1n) - 1;
    const ai = firstAtOrAfter(auditEnds, w);
    const at: Partial<Record<Point, bigint>> = {
      frame: f,
      written: w,
      intentRecv: intents[ii]!.at,
      ...(ji >= 0 && journaled[ji]! >= intents[ii]!.at ? { journaled: journaled[ji]! } : {}),
      ...(ai < auditEnds.length ? { auditEnd: auditEnds[ai]! } : {}),
    };
    for (const [point, list] of Object.entries(series) as [Point, bigint[]][]) {
      const i = firstAtOrAfter(list, f);
      if (i < list.length && list[i]! <= w) at[point] = list[i]!;
    }
    SEGMENTS.forEach(([, from, to], k) => {
      const a = at[from];
      const b = at[to];
      if (a !== undefined && b !== undefined) samples[k]!.push(Number(b - a));
    });
  }
  const out: Record<string, Percentiles> = {};
  SEGMENTS.forEach(([label], k) => {
    const s = samples[k]!.slice(warmup);
    if (s.length > 0) out[label] = percentiles(s);
  });
  return out;
}
