import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { isTradepipeError } from "../../services/core/errors.ts";

const OWNER = fileURLToPath(new URL("./fixtures/embedded-owner.ts", import.meta.url));
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-embedded-test-"));
  await chmod(dir, 0o755); // as root the server's own user must be able to enter it
  dirs.push(dir);
  return join(dir, "data");
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 1000 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(pid), false, `postgres ${pid} still running`);
}

function startOwner(
  dataDir: string,
  flag?: string,
): Promise<{ child: ChildProcess; pid: number; pid2?: number; url: string }> {
  const child = spawn(process.execPath, [OWNER, dataDir, ...(flag ? [flag] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (c: Buffer) => {
      buf += c;
      const line = buf.split("\n")[0];
      if (buf.includes("\n") && line) {
        const { pid, pid2, url } = JSON.parse(line) as { pid: number; pid2?: number; url: string };
        resolve({ child, pid, url, ...(pid2 ? { pid2 } : {}) });
      }
    });
    child.once("exit", (code) => reject(new Error(`owner exited early (${code})`)));
  });
}

test("data persists across a stop and a start in the same data directory", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const first = await startEmbeddedPostgres({ dataDir, durable: false });
  await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
  await first.stop();
  assert.equal(existsSync(join(dataDir, "postmaster.pid")), false, "clean shutdown");
  assert.equal(alive(first.pid), false);

  const second = await startEmbeddedPostgres({ dataDir, durable: false });
  try {
    assert.notEqual(second.pid, first.pid);
    const rows = await query<{ v: string }>(second.url, "SELECT v FROM kept");
    assert.deepEqual(rows, [{ v: "still here" }]);
    const db = await query<{ d: string }>(second.url, "SELECT current_database() AS d");
    assert.equal(db[0]?.d, "tradepipe");
  } finally {
    await second.stop();
  }
  await second.stop(); // idempotent
});

test("a data directory in use by a running server is refused with a clear error", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const running = await startEmbeddedPostgres({ dataDir, durable: false });
  try {
    await assert.rejects(
      startEmbeddedPostgres({ dataDir, durable: false }),
      (e: unknown) =>
        isTradepipeError(e, "TP_ERR_DB_UNAVAILABLE") &&
        e.message.includes(`in use by a running server (pid ${running.pid})`),
    );
  } finally {
    await running.stop();
  }
});

test("SIGTERM to the owner stops the server cleanly and ends the owner", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const { child, pid } = await startOwner(dataDir);
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once("exit", (_c, s) => r(s)));
  child.kill("SIGTERM");
  assert.equal(await exited, "SIGTERM", "the owner still ends by its signal");
  await waitGone(pid);
  assert.equal(existsSync(join(dataDir, "postmaster.pid")), false, "clean shutdown");
});

test("an owner of two servers without its own handler still ends on SIGTERM", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const { child, pid, pid2 } = await startOwner(dataDir, "--two");
  assert.ok(pid2);
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once("exit", (_c, s) => r(s)));
  child.kill("SIGTERM");
  assert.equal(await exited, "SIGTERM");
  await waitGone(pid);
  await waitGone(pid2);
});

test("an owner with its own SIGTERM handler keeps control of its exit", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const { child, pid } = await startOwner(dataDir, "--own-sigterm");
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(out, /owner-exiting/);
  await waitGone(pid);
});

test("SIGKILL of the owner does not leave an orphan server (Linux)", {
  timeout: 60_000,
}, async () => {
  const dataDir = await tempDataDir();
  const { child, pid } = await startOwner(dataDir);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  await waitGone(pid);
  // The directory is reusable straight away.
  const again = await startEmbeddedPostgres({ dataDir, durable: false });
  await again.stop();
});
