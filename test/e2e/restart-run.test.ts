/**
 * `npm start` twice: the second `tradepipe run` on the same data directory finds the database
 * of the first and the simulator's paper account of the first (kept in
 * <data dir>/simulator/<pipeline>.json), so positions reconcile and it goes on trading.
 * Regression test for the second run that reported reconciliation breaks and sent no orders
 * because the simulator started with an empty account beside a database full of positions.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

interface RunOutput {
  out: string;
  err: string;
  code: number | null;
}

/** runUntilFilled starts `tradepipe run`, waits for a status line with fills > 0, then Ctrl-C. */
async function runUntilFilled(env: NodeJS.ProcessEnv): Promise<RunOutput> {
  // Free ports for the stages' /metrics, so other tests can run beside this one.
  const child = spawn(process.execPath, [cli, "run", "--metrics-port", "0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      // The status line comes every 5 s when stdout is not a terminal.
      const timer = setInterval(() => {
        const fills = [...out.matchAll(/^status .* fills=(\d+)/gm)].map((m) => Number(m[1]));
        if (fills.some((n) => n > 0)) {
          clearInterval(timer);
          resolve();
        }
      }, 250);
      void exited.then((code) => {
        clearInterval(timer);
        reject(
          new Error(
            `tradepipe run exited (${code}) before any fill:\n${out.slice(-3000)}\n${err.slice(-3000)}`,
          ),
        );
      });
    });
    child.kill("SIGINT");
    const code = await exited;
    return { out, err, code };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

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
