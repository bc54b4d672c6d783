import assert from "node:assert/strict";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FRAME_HEADER_BYTES, Journal, readJournal } from "./journal.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-journal-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `j${++n}.journal`);
const texts = (path: string) => readJournal(path).records.map((r) => r.toString("utf8"));

test("records come back in order, byte for byte, across a reopen", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  const end1 = j.append('{"a":1}');
  const end2 = j.append("ünïcode ✓");
  assert.equal(end1, FRAME_HEADER_BYTES + 7);
  assert.equal(end2, statSync(path).size);
  j.close();
  const again = new Journal(path, { syncIntervalMs: 0 });
  again.append("third");
  again.close();
  assert.deepEqual(texts(path), ['{"a":1}', "ünïcode ✓", "third"]);
  assert.equal(readJournal(path).tail, "clean");
});

test("appendAll writes several frames in one go; they read back as separate records", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  j.append("first");
  // Larger than the initial frame buffer together, so the buffer grows mid-batch.
  const big = "x".repeat(5000);
  const end = j.appendAll(['{"r":1}', big, "ünïcode ✓"]);
  assert.equal(end, statSync(path).size);
  assert.equal(j.appendAll([]), end);
  j.close();
  assert.deepEqual(texts(path), ["first", '{"r":1}', big, "ünïcode ✓"]);
  assert.equal(readJournal(path).tail, "clean");
});

test("appendAll with one record too large writes none of them", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  const before = j.append("kept");
  assert.throws(() => j.appendAll(["lost", "y".repeat(2 * 1024 * 1024)]), /exceeds/);
  assert.equal(j.appendedTo, before);
  j.close();
  assert.deepEqual(texts(path), ["kept"]);
});

test("a missing file reads as empty", () => {
  assert.deepEqual(readJournal(join(dir, "none.journal")), {
    records: [],
    validTo: 0,
    tail: "clean",
  });
});

test("a truncated tail (torn last frame) is cut; the records before it are kept", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  j.append("one");
  const goodTo = j.append("two");
  j.append("three-that-is-lost");
  j.close();
  for (const cut of [goodTo + 3, goodTo + FRAME_HEADER_BYTES + 2]) {
    truncateSync(path, cut);
    const r = readJournal(path);
    assert.deepEqual(
      r.records.map((b) => b.toString()),
      ["one", "two"],
    );
    assert.equal(r.tail, "torn");
    assert.equal(r.validTo, goodTo);
  }
  // Reopened, the torn bytes are cut off before anything new is written after them.
  const reopened = new Journal(path, { syncIntervalMs: 0 });
  assert.equal(reopened.appendedTo, goodTo);
  reopened.append("four");
  reopened.close();
  assert.deepEqual(texts(path), ["one", "two", "four"]);
});

test("a zero-filled tail (extended but never written) reads as torn", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  const end = j.append("kept");
  j.close();
  appendFileSync(path, Buffer.alloc(64));
  const r = readJournal(path);
  assert.deepEqual(
    r.records.map((b) => b.toString()),
    ["kept"],
  );
  assert.equal(r.validTo, end);
  assert.notEqual(r.tail, "clean");
});

test("a corrupt frame (payload bit flipped) stops the read there", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  const firstEnd = j.append("good");
  j.append("flipped");
  j.append("after");
  j.close();
  const bytes = readFileSync(path);
  bytes[firstEnd + FRAME_HEADER_BYTES + 1]! ^= 0x20;
  writeFileSync(path, bytes);
  const r = readJournal(path);
  assert.deepEqual(
    r.records.map((b) => b.toString()),
    ["good"],
  );
  assert.equal(r.tail, "corrupt");
  assert.equal(r.validTo, firstEnd);
});

test("an impossible length is corruption, not a 4 GB record", () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 0 });
  const end = j.append("good");
  j.close();
  const junk = Buffer.alloc(16, 0xff);
  appendFileSync(path, junk);
  const r = readJournal(path);
  assert.equal(r.tail, "corrupt");
  assert.equal(r.validTo, end);
});

test("the group fsync advances durableTo off the path; sync() does it at once", async () => {
  const path = fresh();
  const j = new Journal(path, { syncIntervalMs: 2 });
  const end = j.append("x".repeat(300));
  assert.equal(j.appendedTo, end);
  const deadline = Date.now() + 10_000;
  while (j.durableTo < end) {
    if (Date.now() > deadline) throw new Error("group fsync never ran");
    await new Promise((r) => setTimeout(r, 5));
  }
  j.close();
  const k = new Journal(path, { syncIntervalMs: 0 });
  const end2 = k.append("y");
  assert.ok(k.durableTo < end2);
  assert.equal(k.sync(), end2);
  k.close();
  assert.throws(() => k.append("z"), /closed/);
});
