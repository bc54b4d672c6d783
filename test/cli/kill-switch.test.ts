/** `tradepipe kill-switch` finds the database of the one live `tradepipe run`, and refuses to guess. */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withMigratedDatabase } from "../support/pg.ts";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

async function killSwitch(dataDir: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TRADEPIPE_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  return run(process.execPath, [cli, "kill-switch", ...args], { env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

test("kill-switch uses the one live run, refuses to guess between several, and ignores dead ones", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "tp-ks-"));
  const db = await withMigratedDatabase();
  const other = spawn("sleep", ["60"]);
  try {
    const runs = join(dataDir, "run", "runs");
    await mkdir(runs, { recursive: true, mode: 0o700 });
    await chmod(join(dataDir, "run"), 0o700);
    const file = (pid: number, pipeline: string) =>
      writeFile(join(runs, `${pid}.json`), JSON.stringify({ pid, pipeline, databaseUrl: db.url }));

    await file(2 ** 22 + 12345, "dead");
    let r = await killSwitch(dataDir, "status");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no DATABASE_URL and no `tradepipe run` running/);

    await file(process.pid, "alpha");
    r = await killSwitch(dataDir, "on", "--reason", "test");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kill switch ENGAGED \(test\)/);

    await file(other.pid!, "beta");
    r = await killSwitch(dataDir, "off");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /several `tradepipe run` are running; say which/);
    assert.match(r.stderr, new RegExp(`--pid ${other.pid}  \\(pipeline beta\\)`));

    r = await killSwitch(dataDir, "off", "--pid", String(process.pid));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kill switch off/);
  } finally {
    other.kill();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
