/** `tradepipe pause on|off|status` against a database: recorded with the OS user and the reason. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { userInfo } from "node:os";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withMigratedDatabase } from "../support/pg.ts";

const run = promisify(execFile);
const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

test("pause on records who and why, status reads it back, off resumes; a wrong word is refused", async () => {
  const db = await withMigratedDatabase();
  const pause = (...args: string[]) =>
    run(process.execPath, [cli, "pause", ...args], {
      env: { ...process.env, DATABASE_URL: db.url },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  try {
    let r = await pause("on", "--reason", "news at noon");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /new orders PAUSED \(news at noon\)/);
    const row = (await db.pool.query("SELECT * FROM risk_state")).rows[0];
    assert.equal(row.paused, true);
    assert.equal(row.paused_changed_by, `cli:${userInfo().username}`);
    r = await pause("status");
    assert.match(r.stdout, /PAUSED/);
    r = await pause("off");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /new orders approved/);
    assert.equal((await db.pool.query("SELECT paused FROM risk_state")).rows[0].paused, false);
    r = await pause("maybe");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /say on, off or status/);
  } finally {
    await db.drop();
  }
});
