/**
 * The README's quick start, as a user runs it: `tradepipe run` with the default file, embedded
 * Postgres and the built-in simulator, on a machine where nothing is set up. Orders are placed
 * and filled, and Ctrl-C stops everything cleanly.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DEV_KEYS } from "../../services/broker-sim/index.ts";
import { runUntilFilled, tradepipe } from "./support.ts";

test("tradepipe run trades on its embedded defaults and stops cleanly on Ctrl-C", {
  timeout: 180_000,
}, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "tp-quickstart-"));
  // As root, Postgres runs as another user, who must be able to enter the data directory.
  await chmod(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRADEPIPE_DATA_DIR: dataDir,
    TRADEPIPE_LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  try {
    const run = await runUntilFilled(env);
    const { out, err, code } = run;
    process.stdout.write(
      `# first fill reported ${(run.firstFillMs / 1000).toFixed(1)} s after start\n`,
    );
    assert.match(out, /Postgres: embedded server started and migrated/);
    assert.match(out, /Simulator: Alpaca-compatible paper broker at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(
      out,
      /market-data=ready signal-bridge=ready risk-manager=ready execution-engine=ready position-tracker=ready/,
    );
    assert.equal(code, 0, `exit code ${code}\n${err.slice(-3000)}`);
    assert.match(out, /tradepipe run: stopped by Ctrl-C \(SIGINT\); \d+ orders sent, \d+ fills/);
    // Secrets never reach what the user sees: the embedded server's superuser password and the
    // broker secret (the simulator's development key here, but the same code carries a real one).
    const password = (
      await readFile(join(dataDir, "postgres", "tradepipe.password"), "utf8")
    ).trim();
    assert.ok(password.length >= 16, "the embedded server has a generated password");
    for (const [name, secret] of [
      ["database password", password],
      ["broker secret", DEV_KEYS.secretKey],
    ] as const) {
      assert.equal(out.includes(secret), false, `${name} printed on stdout`);
      assert.equal(err.includes(secret), false, `${name} printed on stderr`);
    }
    const [, orders] = /; (\d+) orders sent/.exec(out) ?? [];
    assert.ok(Number(orders) > 0, "orders were sent");
    // The summary counts every fill, including those that landed while the stages drained: the
    // report, read from the run's database afterwards, finds the same number.
    const [, fills] = /orders sent, (\d+) fills/.exec(out) ?? [];
    const report = await tradepipe(["report", "--out", join(dataDir, "report")], env, 120_000);
    assert.equal(report.code, 0, report.stderr);
    const md = await readFile(join(dataDir, "report", "report.md"), "utf8");
    assert.equal(
      /\| Fills \| (\d+) /.exec(md)?.[1],
      fills,
      "fills in the summary and the database",
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
