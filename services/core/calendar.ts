/**
 * calendar: the US equity market's trading days (NYSE rules), the one calendar of the project.
 * The simulator's sessions, its GET /v2/calendar, and any market-hours logic read it, so a
 * holiday is a holiday everywhere. Pure: dates in, dates out; no clock, no time zone database.
 *
 * Rules (NYSE Rule 7.2 and its published holiday schedules):
 * - Full closures: New Year's Day, Martin Luther King Jr. Day (3rd Monday of January, from 1998),
 *   Washington's Birthday (3rd Monday of February), Good Friday, Memorial Day (last Monday of
 *   May), Juneteenth (June 19, from 2022), Independence Day, Labor Day (1st Monday of September),
 *   Thanksgiving (4th Thursday of November), Christmas Day.
 * - A holiday on a Sunday is observed the Monday after; on a Saturday, the Friday before —
 *   except New Year's Day, which is then not observed at all (the Friday before ends the year's
 *   accounting period, so the market stays open).
 * - Early closes at 13:00 New York time: July 3 when it is a trading day, the day after
 *   Thanksgiving, and December 24 when it is a trading day.
 * - Unscheduled closures the exchange announced (national days of mourning, the September 11
 *   attacks, Hurricane Sandy) are listed by date below.
 * Regular hours are 09:30–16:00 New York time; Alpaca's extended session runs 04:00–20:00.
 */

/** One trading day as Alpaca's calendar describes it (times are New York local). */
export interface TradingDay {
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM, the regular session's open: always 09:30. */
  open: string;
  /** HH:MM, the regular session's close: 16:00, or 13:00 on an early close. */
  close: string;
  /** HHMM, the extended session's start. */
  sessionOpen: string;
  /** HHMM, the extended session's end: 2000, or 1700 after an early close. */
  sessionClose: string;
  /** YYYY-MM-DD, when a trade made this day settles (T+1 from 2024-05-28, T+2 before). */
  settlementDate: string;
  earlyClose: boolean;
}

/** Closures announced outside the holiday schedule. */
const SPECIAL_CLOSURES = new Set([
  "2001-09-11",
  "2001-09-12",
  "2001-09-13",
  "2001-09-14",
  "2004-06-11", // President Reagan's funeral
  "2007-01-02", // President Ford's funeral
  "2012-10-29", // Hurricane Sandy
  "2012-10-30",
  "2018-12-05", // President George H. W. Bush's funeral
  "2025-01-09", // President Carter's funeral
]);

/** The day T+1 settlement began (SEC Rule 15c6-1 as amended). */
const T_PLUS_ONE_FROM = "2024-05-28";

/** daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** civilFromDays is the inverse of daysFromCivil. */
export function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d };
}

/** weekdayOf returns 0 = Sunday … 6 = Saturday for a day number (days since 1970-01-01). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** dateOfDay renders a day number as YYYY-MM-DD. */
export function dateOfDay(day: number): string {
  const { y, m, d } = civilFromDays(day);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** dayOfDate parses YYYY-MM-DD into a day number; undefined when it is not a real date. */
export function dayOfDate(date: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = daysFromCivil(y, mo, d);
  const back = civilFromDays(day);
  return back.y === y && back.m === mo && back.d === d ? day : undefined;
}

/** nthWeekday: the n-th `weekday` (0 = Sunday) of a month; n = -1 for the last one. */
function nthWeekday(y: number, m: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = daysFromCivil(y, m, 1);
    return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
  }
  const last = daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - 1;
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/** easterSunday: the Gregorian Easter (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher"). */
function easterSunday(y: number): number {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return daysFromCivil(y, month, day);
}

/** observed moves a fixed-date holiday off the weekend (Saturday → Friday, Sunday → Monday). */
function observed(day: number): number {
  const w = weekdayOf(day);
  return w === 6 ? day - 1 : w === 0 ? day + 1 : day;
}

const holidayCache = new Map<number, ReadonlySet<number>>();

/** holidaysOf returns the day numbers on which the market is closed for a holiday in year `y`. */
export function holidaysOf(y: number): ReadonlySet<number> {
  const cached = holidayCache.get(y);
  if (cached) return cached;
  const days = new Set<number>();
  const newYear = daysFromCivil(y, 1, 1);
  // Saturday New Year's Day is not observed (the Friday before closes the accounting year).
  if (weekdayOf(newYear) !== 6) days.add(observed(newYear));
  if (y >= 1998) days.add(nthWeekday(y, 1, 1, 3));
  days.add(nthWeekday(y, 2, 1, 3));
  days.add(easterSunday(y) - 2);
  days.add(nthWeekday(y, 5, 1, -1));
  if (y >= 2022) days.add(observed(daysFromCivil(y, 6, 19)));
  days.add(observed(daysFromCivil(y, 7, 4)));
  days.add(nthWeekday(y, 9, 1, 1));
  days.add(nthWeekday(y, 11, 4, 4));
  days.add(observed(daysFromCivil(y, 12, 25)));
  holidayCache.set(y, days);
  return days;
}

/** isTradingDay tells whether the market has a regular session on day number `day`. */
export function isTradingDay(day: number): boolean {
  const w = weekdayOf(day);
  if (w === 0 || w === 6) return false;
  if (holidaysOf(civilFromDays(day).y).has(day)) return false;
  return !SPECIAL_CLOSURES.has(dateOfDay(day));
}

/** isEarlyClose tells whether a trading day closes at 13:00 New York time. */
export function isEarlyClose(day: number): boolean {
  if (!isTradingDay(day)) return false;
  const { y, m, d } = civilFromDays(day);
  if (m === 7 && d === 3) return true;
  if (m === 12 && d === 24) return true;
  return day === nthWeekday(y, 11, 4, 4) + 1;
}

/** nextTradingDay returns the first trading day strictly after `day`. */
export function nextTradingDay(day: number): number {
  let next = day + 1;
  while (!isTradingDay(next)) next += 1;
  return next;
}

/** tradingDayOf describes day number `day`, or undefined when the market is closed all day. */
export function tradingDayOf(day: number): TradingDay | undefined {
  if (!isTradingDay(day)) return undefined;
  const date = dateOfDay(day);
  const early = isEarlyClose(day);
  const t1 = nextTradingDay(day);
  const settlement = date >= T_PLUS_ONE_FROM ? t1 : nextTradingDay(t1);
  return {
    date,
    open: "09:30",
    close: early ? "13:00" : "16:00",
    sessionOpen: "0400",
    sessionClose: early ? "1700" : "2000",
    settlementDate: dateOfDay(settlement),
    earlyClose: early,
  };
}

/** tradingDaysBetween lists the trading days from `start` to `end` (YYYY-MM-DD, inclusive). */
export function tradingDaysBetween(start: string, end: string): TradingDay[] {
  const from = dayOfDate(start);
  const to = dayOfDate(end);
  if (from === undefined) throw new RangeError(`not a date (YYYY-MM-DD): ${start}`);
  if (to === undefined) throw new RangeError(`not a date (YYYY-MM-DD): ${end}`);
  const out: TradingDay[] = [];
  for (let day = from; day <= to; day++) {
    const t = tradingDayOf(day);
    if (t) out.push(t);
  }
  return out;
}
