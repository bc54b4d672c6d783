/**
 * scale: data → pixel mappings and the tick values people expect to read on an axis (steps of
 * 1, 2 or 5 × 10^k; powers of ten on a log axis; round clock intervals on a time axis).
 */

export interface Scale {
  /** Data value → pixel. */
  at(value: number): number;
  /** Domain actually covered (after rounding to ticks). */
  min: number;
  max: number;
  ticks: number[];
  kind: "linear" | "log";
}

/** niceStep is the 1/2/5 × 10^k step that splits `span` into about `count` intervals. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** linearScale covers [min, max] widened to whole ticks, mapped onto [from, to] pixels. */
export function linearScale(
  min: number,
  max: number,
  from: number,
  to: number,
  tickCount = 5,
): Scale {
  let lo = min;
  let hi = max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, tickCount);
  const niceLo = Math.floor(lo / step) * step;
  const niceHi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let i = 0; niceLo + i * step <= niceHi + step * 1e-9; i++) {
    ticks.push(roundTo(niceLo + i * step, step));
  }
  const span = niceHi - niceLo;
  return {
    at: (v) => from + ((v - niceLo) / span) * (to - from),
    min: niceLo,
    max: niceHi,
    ticks,
    kind: "linear",
  };
}

/** logScale covers [min, max] (both > 0) widened to powers of ten. */
export function logScale(min: number, max: number, from: number, to: number): Scale {
  const lo = Math.floor(Math.log10(Math.max(min, Number.MIN_VALUE)));
  let hi = Math.ceil(Math.log10(Math.max(max, min)));
  if (hi === lo) hi = lo + 1;
  const decades = hi - lo;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    ticks.push(10 ** e);
    // Few decades: 2 and 5 in between so the axis still has something to read.
    if (decades <= 2 && e < hi) ticks.push(2 * 10 ** e, 5 * 10 ** e);
  }
  return {
    at: (v) => from + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / decades) * (to - from),
    min: 10 ** lo,
    max: 10 ** hi,
    ticks: ticks.map((t) => roundTo(t, t)),
    kind: "log",
  };
}

function roundTo(value: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1)) + 2);
  return Number(value.toFixed(Math.min(digits, 12)));
}

/** formatValue renders a tick or figure compactly: 950, 1.2k, 3.5M; small values to 3 digits. */
export function formatValue(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  if (abs >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

function trim(value: number): string {
  return String(Number(value.toFixed(value >= 100 || value <= -100 ? 0 : 1)));
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Round time steps in milliseconds, ascending: axis ticks here, chart buckets elsewhere. */
export const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];

/**
 * timeTicks picks round UTC instants (milliseconds since the epoch) inside [min, max], about
 * `count` of them, and a label format that fits the span.
 */
export function timeTicks(
  min: number,
  max: number,
  count = 6,
): { ticks: number[]; label: (t: number) => string } {
  const span = Math.max(max - min, SECOND);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? TIME_STEPS.at(-1)!;
  const first = Math.ceil(min / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= max; t += step) ticks.push(t);
  const iso = (t: number) => new Date(t).toISOString();
  const label =
    step < MINUTE
      ? (t: number) => iso(t).slice(11, 19)
      : step < DAY && span < DAY
        ? (t: number) => iso(t).slice(11, 16)
        : step < DAY
          ? (t: number) => `${iso(t).slice(5, 10)} ${iso(t).slice(11, 16)}`
          : (t: number) => iso(t).slice(0, 10);
  return { ticks, label };
}

/**
 * tickLabels formats a whole axis at once: compact labels (formatValue) when they stay distinct,
 * else full numbers with as many decimals as the step needs (100,500 beside 101,000).
 */
export function tickLabels(ticks: readonly number[]): string[] {
  const compact = ticks.map(formatValue);
  if (new Set(compact).size === compact.length) return compact;
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = Math.max(0, Math.min(9, -Math.floor(Math.log10(step))));
  return ticks.map((t) =>
    t.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
  );
}
