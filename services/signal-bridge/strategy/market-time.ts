/**
 * Exchange time for strategies, from the event time alone (a strategy may not read the clock or
 * use `Date`): the New York trading day and minute of the day, with US daylight saving time
 * (since 2007: from 02:00 local on the second Sunday of March to 02:00 local on the first Sunday
 * of November). Integer arithmetic on days since the epoch (the proleptic Gregorian calendar).
 */

const NS_PER_MINUTE = 60_000_000_000n;
const MINUTES_PER_DAY = 1440;

/** NewYorkTime is a moment in exchange time. */
export interface NewYorkTime {
  /** Days since 1970-01-01 of the local (New York) date: changes at local midnight. */
  day: number;
  /** Minutes since local midnight (570 is 09:30, the regular open). */
  minuteOfDay: number;
}

/** daysFromCivil is the number of days from 1970-01-01 to y-m-d (Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** yearOfDay is the calendar year of a day number. */
function yearOfDay(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2 ? 1 : 0);
}

/** sundayOnOrAfter is the first Sunday on or after a day (1970-01-01 was a Thursday). */
function sundayOnOrAfter(days: number): number {
  const weekday = (((days + 4) % 7) + 7) % 7; // 0 = Sunday
  return days + ((7 - weekday) % 7);
}

/** newYorkTime converts an event time (ns since the epoch) to New York local day and minute. */
export function newYorkTime(
  timeNs: bigint,
  out: NewYorkTime = { day: 0, minuteOfDay: 0 },
): NewYorkTime {
  const utcMinute =
    Number(timeNs / NS_PER_MINUTE) - (timeNs < 0n && timeNs % NS_PER_MINUTE !== 0n ? 1 : 0);
  const year = yearOfDay(Math.floor(utcMinute / MINUTES_PER_DAY));
  // 02:00 EST is 07:00 UTC; 02:00 EDT is 06:00 UTC.
  const dstStart = (sundayOnOrAfter(daysFromCivil(year, 3, 1)) + 7) * MINUTES_PER_DAY + 7 * 60;
  const dstEnd = sundayOnOrAfter(daysFromCivil(year, 11, 1)) * MINUTES_PER_DAY + 6 * 60;
  const offset = utcMinute >= dstStart && utcMinute < dstEnd ? -240 : -300;
  const local = utcMinute + offset;
  out.day = Math.floor(local / MINUTES_PER_DAY);
  out.minuteOfDay = local - out.day * MINUTES_PER_DAY;
  return out;
}
