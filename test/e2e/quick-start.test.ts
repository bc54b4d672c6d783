/**
 * The README's quick start, as a user runs it: `tradepipe run` with the default file, embedded
 * Postgres and the built-in simulator, on a machine where nothing is set up. Orders are placed
 * and filled, and Ctrl-C stops everything cleanly.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

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
  // Free ports rather than the spec's fixed ones: other tests may run beside this one.
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
    const started = Date.now();
    // The status line comes every 5 s when stdout is not a terminal.
    const firstFill = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const fills = [...out.matchAll(/^status .* fills=(\d+)/gm)].map((m) => Number(m[1]));
        if (fills.some((n) => n > 0)) {
          clearInterval(timer);
          resolve(Date.now() - started);
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
    process.stdout.write(`# first fill reported ${(firstFill / 1000).toFixed(1)} s after start\n`);
    assert.match(out, /Postgres: embedded server started and migrated/);
    assert.match(out, /Simulator: Alpaca-compatible paper broker at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(
      out,
      /market-data=ready signal-bridge=ready risk-manager=ready execution-engine=ready position-tracker=ready/,
    );
    child.kill("SIGINT");
    const code = await exited;
    assert.equal(code, 0, `exit code ${code}\n${err.slice(-3000)}`);
    assert.match(out, /tradepipe run: stopped by Ctrl-C \(SIGINT\); \d+ orders sent, \d+ fills/);
    const [, orders] = /; (\d+) orders sent/.exec(out) ?? [];
    assert.ok(Number(orders) > 0, "orders were sent");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }
});
