/**
 * A stage process whose start fails (here: a sector map that is not there, broker keys that are
 * missing, a database that was never migrated) says why and ends by itself with code 1, and Ctrl-C (SIGINT) ends it at
 * once rather than being swallowed by a handler that waits for a stage that never started.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestDatabase, withMigratedDatabase } from "../support/pg.ts";

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));
const spec = fileURLToPath(new URL("../../config/pipeline.yaml", import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * runStage starts a risk-manager process and waits until it says its start failed; then, with
 * `interrupt`, sends SIGINT (Ctrl-C) at once, else lets it end by itself. SIGKILL after a
 * generous bound is the only way a stuck process ends (and fails the test).
 */
async function runStage(env: NodeJS.ProcessEnv, interrupt: boolean): Promise<Ended> {
  const runDir = await mkdtemp(join(tmpdir(), "tp-fail-"));
  const child = spawn(process.execPath, [cli, "stage", "risk-manager", "-f", spec], {
    env: {
      ...process.env,
      TRADEPIPE_RUN_DIR: runDir,
      TRADEPIPE_LOG_LEVEL: "info",
      TRADEPIPE_SIM_URL: "http://127.0.0.1:9",
      APCA_API_KEY_ID: "PKTEST",
      APCA_API_SECRET_KEY: "test-secret",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c));
  child.stderr.on("data", (c: Buffer) => (output += c));
  const exited = new Promise<Pick<Ended, "code" | "signal">>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  for (
    let i = 0;
    i < 600 && !/stage failed to start/.test(output) && child.exitCode === null;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (interrupt) child.kill("SIGINT");
  const bound = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const ended = await exited;
  clearTimeout(bound);
  await rm(runDir, { recursive: true, force: true });
  return { ...ended, output };
}

function assertEndedOnItsOwn(r: Ended, why: RegExp): void {
  assert.match(r.output, why);
  assert.deepEqual(
    { code: r.code, signal: r.signal },
    { code: 1, signal: null },
    r.output.slice(-2000),
  );
}

function assertEndedOnCtrlC(r: Ended): void {
  assert.notEqual(r.signal, "SIGKILL", `SIGINT did not end it:\n${r.output.slice(-2000)}`);
  assert.ok(r.code === 1 || r.signal === "SIGINT", `code ${r.code}, signal ${r.signal}`);
}

test("a stage whose sector map is missing ends with code 1, and at once on Ctrl-C", async () => {
  const db = await withMigratedDatabase();
  try {
    const env = { DATABASE_URL: db.url, TRADEPIPE_SECTORS_FILE: "/nonexistent/sectors.yaml" };
    assertEndedOnItsOwn(await runStage(env, false), /sector map \/nonexistent\/sectors\.yaml/);
    assertEndedOnCtrlC(await runStage(env, true));
  } finally {
    await db.drop();
  }
});

test("a stage without broker keys ends with code 1, and at once on Ctrl-C", async () => {
  const db = await withMigratedDatabase();
  try {
    const env = { DATABASE_URL: db.url, APCA_API_KEY_ID: "", APCA_API_SECRET_KEY: "" };
    assertEndedOnItsOwn(await runStage(env, false), /credentials not found/);
    assertEndedOnCtrlC(await runStage(env, true));
  } finally {
    await db.drop();
  }
});

test("a stage whose database was never migrated ends with code 1, and at once on Ctrl-C", async () => {
  const db = await createTestDatabase();
  try {
    assertEndedOnItsOwn(await runStage({ DATABASE_URL: db.url }, false), /stage failed to start/);
    assertEndedOnCtrlC(await runStage({ DATABASE_URL: db.url }, true));
  } finally {
    await db.drop();
  }
});
