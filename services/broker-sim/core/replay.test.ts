import assert from "node:assert/strict";
import { test } from "node:test";
import { toDecimal } from "../../core/money.ts";
import { advanceReplay, createReplay, parseRecording } from "./replay.ts";
import { parseTime } from "./time.ts";

const NDJSON = [
  '{"T":"t","S":"AAPL","i":7,"x":"V","p":190.5,"s":100,"c":["@"],"t":"2025-06-24T14:00:01.5Z","z":"C"}',
  '{"T":"q","S":"AAPL","bx":"V","bp":190.49,"bs":2,"ax":"Q","ap":190.51,"as":3,"c":["R"],"t":"2025-06-24T14:00:00Z","z":"C"}',
  "",
  '{"T":"b","S":"AAPL","o":190,"h":191,"l":189.5,"c":190.5,"v":1200,"t":"2025-06-24T14:00:00Z","n":12,"vw":190.2}',
].join("\n");

test("parseRecording reads Alpaca-shaped lines and sorts them by time", () => {
  const r = parseRecording(NDJSON);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.events.map((e) => e.kind),
    ["quote", "bar", "trade"],
  );
  const q = r.events[0]!;
  assert.equal(q.kind === "quote" && toDecimal(q.quote.askPrice), "190.51");
});

test("parseRecording names the bad line and the problem", () => {
  const r = parseRecording(
    '{"T":"t","S":"X","t":"2025-06-24T14:00:00Z","p":"abc","s":1}\nnot json\n{"T":"z","S":"X","t":"2025-06-24T14:00:00Z"}\n{"T":"q"}',
  );
  assert.deepEqual(r.errors, [
    'line 1.p: expected a number, got "abc"',
    "line 2: not valid JSON",
    'line 3: unknown message type T="z" (expected q, t or b)',
    'line 4: needs "S" (symbol) and "t" (RFC-3339 time)',
  ]);
  assert.equal(r.events.length, 0);
});

test("advanceReplay releases events up to a time, each quote with a synthesised book", () => {
  const r = createReplay(parseRecording(NDJSON).events, 1, 3);
  const first = advanceReplay(r, parseTime("2025-06-24T14:00:01Z")!);
  assert.deepEqual(
    first.map((e) => e.kind),
    ["quote", "book", "bar"],
  );
  const book = first[1]!;
  assert.equal(book.kind === "book" && book.book.bids.length, 3);
  assert.deepEqual(
    advanceReplay(r, parseTime("2025-06-24T15:00:00Z")!).map((e) => e.kind),
    ["trade"],
  );
});
