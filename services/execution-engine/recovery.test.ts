/**
 * The journal's file belongs to one pipeline on one database: pipelines of the same name on two
 * databases that share a journal directory (two `tradepipe run`s with DATABASE_URL as root) never
 * append to, replay or remove each other's journal.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createLogger } from "../core/telemetry/index.ts";
import { openJournal, replayJournals } from "./recovery.ts";
import type { ExecutionStore } from "./store.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-journal-owner-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ name: "recovery-test", level: "silent" });
const prefix = "tp-0123abcd-";

test("two databases, one directory: each term opens its own file and replays only its own", async () => {
  const opened = (dbId: string, epoch: number) =>
    openJournal({ dir, prefix, epoch, dbId, nowNs: 1n, onSyncError: () => {} });
  const a = opened("7000000000000000001/tradepipe_a", 1);
  const b = opened("7000000000000000002/tradepipe_b", 1);
  assert.notEqual(a.path, b.path);
  a.journal.close();
  b.journal.close();

  // Database b's next term replays the journals of its older terms: a's file is not one of them.
  const written: number[] = [];
  const store = {
    writeBatch: async (_writes: unknown[], epoch: number) => {
      written.push(epoch);
    },
  } as unknown as ExecutionStore;
  const report = await replayJournals({
    dir,
    prefix,
    epoch: 2,
    dbId: "7000000000000000002/tradepipe_b",
    store,
    log,
  });
  assert.deepEqual(report, { files: 1, records: 0, damaged: 0, skipped: 0 });
  assert.equal(existsSync(b.path), false, "b's replayed journal is removed");
  assert.equal(existsSync(a.path), true, "a's journal is left where it is");
});
