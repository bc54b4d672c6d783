import assert from "node:assert/strict";
import { test } from "node:test";
import { dayOfDate, isTradingDay, tradingDayOf, tradingDaysBetween } from "./calendar.ts";

/** Weekdays the NYSE was (or is scheduled to be) closed, from its published holiday calendars. */
const CLOSED: Record<number, string[]> = {
  2022: [
    "2022-01-17",
    "2022-02-21",
    "2022-04-15",
    "2022-05-30",
    "2022-06-20",
    "2022-07-04",
    "2022-09-05",
    "2022-11-24",
    "2022-12-26",
  ],
  2024: [
    "2024-01-01",
    "2024-01-15",
    "2024-02-19",
    "2024-03-29",
    "2024-05-27",
    "2024-06-19",
    "2024-07-04",
    "2024-09-02",
    "2024-11-28",
    "2024-12-25",
  ],
  2025: [
    "2025-01-01",
    "2025-01-09",
    "2025-01-20",
    "2025-02-17",
    "2025-04-18",
    "2025-05-26",
    "2025-06-19",
    "2025-07-04",
    "2025-09-01",
    "2025-11-27",
    "2025-12-25",
  ],
  2026: [
    "2026-01-01",
    "2026-01-19",
    "2026-02-16",
    "2026-04-03",
    "2026-05-25",
    "2026-06-19",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-12-25",
  ],
};

const EARLY: Record<number, string[]> = {
  2024: ["2024-07-03", "2024-11-29", "2024-12-24"],
  2025: ["2025-07-03", "2025-11-28", "2025-12-24"],
  2026: ["2026-11-27", "2026-12-24"],
};

for (const [year, closed] of Object.entries(CLOSED)) {
  test(`the weekdays the market is closed in ${year} are exactly the exchange's holidays`, () => {
    const weekdaysClosed: string[] = [];
    for (const d of tradingDaysBetweenAll(`${year}-01-01`, `${year}-12-31`)) {
      if (d.weekday && !d.trading) weekdaysClosed.push(d.date);
    }
    assert.deepEqual(weekdaysClosed, closed);
  });
}

for (const [year, early] of Object.entries(EARLY)) {
  test(`the early closes (13:00) of ${year}`, () => {
    const days = tradingDaysBetween(`${year}-01-01`, `${year}-12-31`);
    assert.deepEqual(
      days.filter((d) => d.earlyClose).map((d) => d.date),
      early,
    );
    for (const d of days.filter((x) => x.earlyClose)) {
      assert.equal(d.close, "13:00");
      assert.equal(d.sessionClose, "1700");
    }
  });
}

test("a Saturday New Year's Day is not observed: the Friday before trades", () => {
  assert.equal(isTradingDay(dayOfDate("2021-12-31")!), true);
  assert.equal(isTradingDay(dayOfDate("2027-12-31")!), true);
  assert.equal(isTradingDay(dayOfDate("2027-12-24")!), false, "Christmas 2027 is a Saturday");
});

test("settlement is T+2 before 2024-05-28 and T+1 from then, on trading days", () => {
  assert.equal(tradingDayOf(dayOfDate("2024-05-23")!)?.settlementDate, "2024-05-28");
  assert.equal(tradingDayOf(dayOfDate("2024-05-28")!)?.settlementDate, "2024-05-29");
  assert.equal(tradingDayOf(dayOfDate("2026-07-02")!)?.settlementDate, "2026-07-06");
});

test("a regular day opens 09:30 and closes 16:00, extended 04:00–20:00", () => {
  assert.deepEqual(tradingDayOf(dayOfDate("2026-03-02")!), {
    date: "2026-03-02",
    open: "09:30",
    close: "16:00",
    sessionOpen: "0400",
    sessionClose: "2000",
    settlementDate: "2026-03-03",
    earlyClose: false,
  });
});

test("bad dates are refused with the text that was given", () => {
  assert.throws(() => tradingDaysBetween("2026-02-30", "2026-03-01"), /2026-02-30/);
  assert.throws(() => tradingDaysBetween("2026-03-01", "tomorrow"), /tomorrow/);
});

function* tradingDaysBetweenAll(start: string, end: string) {
  for (let day = dayOfDate(start)!; day <= dayOfDate(end)!; day++) {
    const w = (((day + 4) % 7) + 7) % 7;
    const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
    yield { date, weekday: w >= 1 && w <= 5, trading: isTradingDay(day) };
  }
}
