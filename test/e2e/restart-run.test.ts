/**
 * `npm start` twice: the second `tradepipe run` on the same data directory finds the database
 * of the first and the simulator's paper account of the first (kept in
 * <data dir>/simulator/<pipeline>.json), so positions reconcile and it goes on trading.
 * Regression test for the second run that reported reconciliation breaks and sent no orders
 * because the simulator started with an empty account beside a database full of positions.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runUntilFilled } from "./support.ts";

test("a second tradepipe run on the same data directory reconciles and keeps trading", {
  timeout: 300_000,
}, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "tp-restart-"));
  // As root, Postgres runs as another user, who must be able to enter the data directory.
  await chmod(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRADEPIPE_DATA_DIR: dataDir,
    TRADEPIPE_LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  const accountFile = join(dataDir, "simulator", "local.json");
  try {
    const first = await runUntilFilled(env);
    assert.equal(first.code, 0, `first run: exit ${first.code}\n${first.err.slice(-3000)}`);
    assert.ok(first.out.includes(`new account, kept in ${accountFile}`), first.out.slice(0, 2000));
    const saved = JSON.parse(await readFile(accountFile, "utf8")) as {
      orders: unknown[];
      executions: unknown[];
    };
    assert.ok(saved.executions.length > 0, "the first run's fills are in the account file");

    const second = await runUntilFilled(env);
    assert.equal(second.code, 0, `second run: exit ${second.code}\n${second.err.slice(-3000)}`);
    assert.ok(
      second.out.includes(`account restored from ${accountFile}: cash `),
      second.out.slice(0, 2000),
    );
    const both = second.out + second.err;
    assert.doesNotMatch(both, /reconciliation break/, both.slice(-3000));
    const [, orders] = /; (\d+) orders sent, (\d+) fills/.exec(second.out) ?? [];
    assert.ok(Number(orders) > 0, `the second run sent orders:\n${second.out.slice(-2000)}`);
    const after = JSON.parse(await readFile(accountFile, "utf8")) as { orders: unknown[] };
    assert.ok(
      after.orders.length > saved.orders.length,
      "the second run's orders join the first's",
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
