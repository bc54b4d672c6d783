import assert from "node:assert/strict";
import { it } from "node:test";
import { daysFromCivil } from "../../broker-sim/core/time.ts";
import { newYorkTime } from "./market-time.ts";

const fmt = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
});

/** reference computes the New York day and minute with the platform's time-zone database. */
function reference(ms: number): { day: number; minuteOfDay: number } {
  const parts = Object.fromEntries(fmt.formatToParts(ms).map((p) => [p.type, Number(p.value)]));
  return {
    day: daysFromCivil(parts.year!, parts.month!, parts.day!),
    minuteOfDay: parts.hour! * 60 + parts.minute!,
  };
}

it("agrees with the time-zone database across the DST switches of 2007–2040", () => {
  const edges: number[] = [];
  for (let y = 2007; y <= 2040; y++) {
    for (const m of [3, 11]) {
      const start = Date.UTC(y, m - 1, 1);
      for (let h = 0; h < 24 * 14; h += 1) {
        edges.push(start + h * 3_600_000 - 60_000, start + h * 3_600_000);
      }
    }
  }
  let s = 7;
  for (let i = 0; i < 20_000; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    edges.push(Date.UTC(2007, 0, 1) + Math.floor((s / 4294967296) * 34 * 365.25 * 86_400_000));
  }
  for (const ms of edges) {
    const got = newYorkTime(BigInt(ms) * 1_000_000n + 123_456n);
    assert.deepEqual({ ...got }, reference(ms - (ms % 60_000)), new Date(ms).toISOString());
  }
});

it("09:30 New York is 13:30 UTC in summer and 14:30 UTC in winter", () => {
  assert.equal(newYorkTime(BigInt(Date.UTC(2026, 5, 15, 13, 30)) * 1_000_000n).minuteOfDay, 570);
  assert.equal(newYorkTime(BigInt(Date.UTC(2026, 0, 15, 14, 30)) * 1_000_000n).minuteOfDay, 570);
});
