import assert from "node:assert/strict";
import { test } from "node:test";
import {
  etDate,
  formatEt,
  formatRfc3339,
  isRegularSession,
  nextClose,
  nextOpen,
  parseTime,
} from "./time.ts";

const at = (s: string) => parseTime(s)!;

test("formatRfc3339 keeps nanoseconds and trims trailing zeros, like Alpaca", () => {
  assert.equal(
    formatRfc3339(at("2022-02-04T16:53:29.534279170Z")),
    "2022-02-04T16:53:29.53427917Z",
  );
  assert.equal(formatRfc3339(at("2024-01-02T03:04:05Z")), "2024-01-02T03:04:05Z");
  assert.equal(formatRfc3339(0n), "1970-01-01T00:00:00Z");
});

test("parseTime accepts offsets and bare dates and rejects junk", () => {
  assert.equal(at("2025-06-24T14:15:22-04:00"), at("2025-06-24T18:15:22Z"));
  assert.equal(at("2025-06-24"), at("2025-06-24T00:00:00Z"));
  for (const bad of [
    "",
    "yesterday",
    "2025-13-01",
    "2025-06-24T25:00:00Z",
    "2025-06-24T10:00:00+0",
  ]) {
    assert.equal(parseTime(bad), undefined, bad);
  }
});

test("New York offset follows daylight saving time", () => {
  assert.equal(formatEt(at("2025-06-24T18:15:22Z")), "2025-06-24T14:15:22-04:00");
  assert.equal(formatEt(at("2025-01-15T15:00:00Z")), "2025-01-15T10:00:00-05:00");
  assert.equal(formatEt(at("2025-03-09T06:59:59Z")), "2025-03-09T01:59:59-05:00");
  assert.equal(formatEt(at("2025-03-09T07:00:00Z")), "2025-03-09T03:00:00-04:00");
  assert.equal(etDate(at("2025-06-25T02:00:00Z")), "2025-06-24");
});

test("regular session is 09:30–16:00 New York time on weekdays", () => {
  assert.equal(isRegularSession(at("2025-06-24T13:30:00Z")), true); // Tue 09:30 EDT
  assert.equal(isRegularSession(at("2025-06-24T13:29:59Z")), false);
  assert.equal(isRegularSession(at("2025-06-24T20:00:00Z")), false); // 16:00 EDT
  assert.equal(isRegularSession(at("2025-06-28T15:00:00Z")), false); // Saturday
  assert.equal(formatEt(nextOpen(at("2025-06-27T21:00:00Z"))), "2025-06-30T09:30:00-04:00");
  assert.equal(formatEt(nextClose(at("2025-06-24T15:00:00Z"))), "2025-06-24T16:00:00-04:00");
  assert.equal(formatEt(nextClose(at("2025-01-10T22:00:00Z"))), "2025-01-13T16:00:00-05:00");
});
