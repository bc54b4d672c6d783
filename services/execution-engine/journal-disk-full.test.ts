/**
 * The journal on a full disk, on a real filesystem that runs out of space: a small tmpfs
 * mounted for the test (root, as `.ci/run` runs the suite). An append that does not fit must
 * fail as a whole, leaving the file exactly as it was before it: no torn frame for a later
 * append (after space is freed) to follow, and no whole record of a batch that the caller was
 * told failed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fillDisk, mountTmpfs, requireRoot } from "../../test/support/small-disk.ts";
import { Journal, readJournal } from "./journal.ts";

let mountPoint = "";
let unmount = () => {};

before(() => {
  requireRoot("this test mounts a small tmpfs to fill a disk for real");
  mountPoint = join(mkdtempSync(join(tmpdir(), "tp-journal-full-")), "disk");
  unmount = mountTmpfs(mountPoint, "256k");
});

after(() => {
  if (mountPoint === "") return;
  unmount();
  rmSync(dirname(mountPoint), { recursive: true, force: true });
});

/** appendUntilFull appends `records` at a time until an append throws; returns what was kept. */
function appendUntilFull(j: Journal, records: number): { kept: string[]; err: Error } {
  const kept: string[] = [];
  for (let i = 0; ; i++) {
    const batch = Array.from({ length: records }, (_, k) => `order-${i}-${k} ${"x".repeat(180)}`);
    try {
      j.appendAll(batch);
    } catch (err) {
      return { kept, err: err as Error };
    }
    kept.push(...batch);
  }
}

for (const records of [1, 3]) {
  test(`a full disk fails an append of ${records} record(s) whole: the file keeps only what succeeded`, (t) => {
    const path = join(mountPoint, `j-${records}.journal`);
    const j = new Journal(path, { syncIntervalMs: 0 });
    t.after(() => j.close());
    // The first record gives the file a page of its own; the disk then fills up around it, and
    // the appends go on into that page's free room until one does not fit.
    const first = "the first record";
    j.append(first);
    const filler = fillDisk(mountPoint);
    const { kept, err } = appendUntilFull(j, records);
    kept.unshift(first);
    assert.equal(
      (err as NodeJS.ErrnoException).code,
      "ENOSPC",
      `the append failed: ${err.message}`,
    );
    assert.ok(kept.length > 1, "the file's page took more records before the disk was full");

    const onDisk = readJournal(path);
    assert.equal(onDisk.tail, "clean", "no torn frame left behind by the failed append");
    assert.equal(
      statSync(path).size,
      j.appendedTo,
      "the file ends where the last good append ended",
    );
    assert.deepEqual(
      onDisk.records.map((r) => r.toString("utf8")),
      kept,
      "exactly the records of the appends that succeeded",
    );

    // Space comes back (the operator deleted something): appends carry on from a clean end.
    rmSync(filler);
    j.append("after the disk was freed");
    const again = readJournal(path);
    assert.equal(again.tail, "clean");
    assert.deepEqual(
      again.records.map((r) => r.toString("utf8")),
      [...kept, "after the disk was freed"],
    );
    j.close();
    rmSync(path);
  });
}
