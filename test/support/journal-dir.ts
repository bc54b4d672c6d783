/**
 * journal-dir: where tests put the execution-engine's journal — TRADEPIPE_JOURNAL_DIR if the
 * test set one, else one temporary directory per test process (kept across the runs of a
 * restart test) — never the machine's /var/lib/tradepipe/journal or the user's data directory.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let ofThisProcess: string | undefined;

export function testJournalDir(): string {
  ofThisProcess ??=
    process.env.TRADEPIPE_JOURNAL_DIR ?? mkdtempSync(join(tmpdir(), "tp-test-journal-"));
  return ofThisProcess;
}
