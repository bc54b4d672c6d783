/**
 * time: pure calendar arithmetic on simulated time (bigint nanoseconds since the UNIX epoch).
 * The core never reads a clock; these helpers only format, parse and compute market sessions
 * (NYSE regular hours 09:30–16:00 America/New_York on the trading days of services/core/calendar.ts:
 * holidays closed, 13:00 on early-close days).
 */
import {
  civilFromDays,
  daysFromCivil,
  isEarlyClose,
  isTradingDay,
  weekdayOf,
} from "../../core/calendar.ts";

export type Nanos = bigint;

export const NS_PER_MS = 1_000_000n;
export const NS_PER_SEC = 1_000_000_000n;
export const NS_PER_MIN = 60n * NS_PER_SEC;
export const NS_PER_DAY = 86_400n * NS_PER_SEC;

export { civilFromDays, daysFromCivil } from "../../core/calendar.ts";

function nthSunday(y: number, m: number, n: number): number {
  const first = daysFromCivil(y, m, 1);
  const offset = (7 - weekdayOf(first)) % 7;
  return first + offset + (n - 1) * 7;
}

/** etOffsetHours returns -4 during US daylight saving time, -5 otherwise. */
export function etOffsetHours(ns: Nanos): number {
  const sec = Number(ns / NS_PER_SEC);
  const { y } = civilFromDays(Math.floor(sec / 86400));
  const dstStart = nthSunday(y, 3, 2) * 86400 + 7 * 3600; // 02:00 EST = 07:00 UTC
  const dstEnd = nthSunday(y, 11, 1) * 86400 + 6 * 3600; // 02:00 EDT = 06:00 UTC
  return sec >= dstStart && sec < dstEnd ? -4 : -5;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

function civilParts(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(Math.floor(rem / 3600))}:${pad(Math.floor((rem % 3600) / 60))}:${pad(rem % 60)}`;
}

/** formatRfc3339 renders UTC with up to nine fractional digits, trailing zeros trimmed (Alpaca's form). */
export function formatRfc3339(ns: Nanos): string {
  const sec = ns >= 0n ? ns / NS_PER_SEC : (ns - NS_PER_SEC + 1n) / NS_PER_SEC;
  const frac = ns - sec * NS_PER_SEC;
  const fracText = frac === 0n ? "" : `.${frac.toString().padStart(9, "0").replace(/0+$/, "")}`;
  // Consecutive events mostly share their second: reuse its calendar text (a pure cache).
  if (sec !== lastSecond) {
    lastSecond = sec;
    lastSecondText = civilParts(Number(sec));
  }
  return `${lastSecondText}${fracText}Z`;
}

let lastSecond = -1n << 62n;
let lastSecondText = "";

/** formatEt renders whole seconds in New York time with its offset, as GET /v2/clock does. */
export function formatEt(ns: Nanos): string {
  const off = etOffsetHours(ns);
  const sec = Number(ns / NS_PER_SEC) + off * 3600;
  return `${civilParts(sec)}${off < 0 ? "-" : "+"}${pad(Math.abs(off))}:00`;
}

/** etDate returns the New York calendar date (YYYY-MM-DD) of an instant. */
export function etDate(ns: Nanos): string {
  return formatEt(ns).slice(0, 10);
}

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** parseTime accepts RFC-3339 (any fraction up to ns, Z or offset) or YYYY-MM-DD; undefined if invalid. */
export function parseTime(text: string): Nanos | undefined {
  const m = RFC3339_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 60
  ) {
    return undefined;
  }
  let sec =
    daysFromCivil(Number(y), month, day) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    sec -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60);
  }
  return BigInt(sec) * NS_PER_SEC + BigInt(frac.padEnd(9, "0") || "0");
}

/** sessionBounds returns the regular session [open, close) of the New York day containing ns. */
function sessionOf(etDay: number): { open: Nanos; close: Nanos } {
  const noonUtc = BigInt(etDay * 86400 + 17 * 3600) * NS_PER_SEC;
  const off = BigInt(etOffsetHours(noonUtc));
  const base = BigInt(etDay * 86400) - off * 3600n;
  const closeHour = isEarlyClose(etDay) ? 13n : 16n;
  return {
    open: (base + 9n * 3600n + 30n * 60n) * NS_PER_SEC,
    close: (base + closeHour * 3600n) * NS_PER_SEC,
  };
}

function etDayOf(ns: Nanos): number {
  const sec = Number(ns / NS_PER_SEC) + etOffsetHours(ns) * 3600;
  return Math.floor(sec / 86400);
}

/** isRegularSession tells whether ns falls in regular trading hours. */
export function isRegularSession(ns: Nanos): boolean {
  const day = etDayOf(ns);
  if (!isTradingDay(day)) return false;
  const { open, close } = sessionOf(day);
  return ns >= open && ns < close;
}

/** nextOpen returns the first session open strictly after ns. */
export function nextOpen(ns: Nanos): Nanos {
  for (let day = etDayOf(ns); ; day++) {
    if (!isTradingDay(day)) continue;
    const { open } = sessionOf(day);
    if (open > ns) return open;
  }
}

/** nextClose returns the first session close strictly after ns. */
export function nextClose(ns: Nanos): Nanos {
  for (let day = etDayOf(ns); ; day++) {
    if (!isTradingDay(day)) continue;
    const { close } = sessionOf(day);
    if (close > ns) return close;
  }
}
