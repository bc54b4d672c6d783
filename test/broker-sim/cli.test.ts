/**
 * `tradepipe sim`: starts, prints its URLs and keys, serves, and exits 0 on SIGINT; bad flags
 * exit 2 with a message naming the flag.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { api, waitFor } from "./support.ts";

const cli = fileURLToPath(new URL("../../bin/tradepipe.ts", import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [cli, "sim", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exit, out: () => out, err: () => err };
}

test("tradepipe sim prints URLs and keys, serves the API, and stops cleanly on SIGINT", async () => {
  const p = run(["--port", "0", "--seed", "9", "--speed", "2"]);
  try {
    await waitFor(() => p.out().includes("Ctrl-C"), "startup banner", 20_000);
    const url = /trading REST\s+(http:\/\/\S+)\/v2/.exec(p.out())?.[1];
    const keyId = /APCA-API-KEY-ID\s+(\S+)/.exec(p.out())?.[1];
    const secretKey = /APCA-API-SECRET-KEY\s+(\S+)/.exec(p.out())?.[1];
    assert.ok(url && keyId && secretKey, p.out());
    const clock = await api(url, { keyId, secretKey })("GET", "/v2/clock");
    assert.equal(clock.status, 200);
  } finally {
    p.child.kill("SIGINT");
  }
  assert.equal(await p.exit, 0);
});

test("tradepipe sim refuses a bad flag value with exit 2 and names it", async () => {
  const p = run(["--speed", "fast"]);
  assert.equal(await p.exit, 2);
  assert.match(p.err(), /--speed: not a number: fast/);
});

test("tradepipe sim as the operator starts it: generated keys, admin on its own token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tp-sim-keys-"));
  const keys = { keyId: "PKGENERATED00000001", secretKey: "generated-secret-key-0000000000" };
  writeFileSync(join(dir, "APCA_API_KEY_ID"), keys.keyId);
  writeFileSync(join(dir, "APCA_API_SECRET_KEY"), keys.secretKey);
  writeFileSync(join(dir, "admin-token"), "token-of-the-admin-0000000000");
  const p = run([
    "--port",
    "0",
    `--keys-dir=${dir}`,
    `--admin-token-file=${join(dir, "admin-token")}`,
  ]);
  try {
    await waitFor(() => p.out().includes("Ctrl-C"), "startup banner", 20_000);
    assert.doesNotMatch(p.out(), /generated-secret-key/, "the secret is not printed");
    const url = /trading REST\s+(http:\/\/\S+)\/v2/.exec(p.out())?.[1] ?? "";
    assert.equal((await api(url, keys)("GET", "/v2/clock")).status, 200);
    const dev = {
      keyId: "PKTRADEPIPESIM000001",
      secretKey: "tradepipe-sim-dev-secret-000000000000000",
    };
    assert.equal((await api(url, dev)("GET", "/v2/clock")).status, 401);
    assert.equal((await api(url, keys)("GET", "/admin/state")).status, 401);
    const admin = await fetch(`${url}/admin/state`, {
      headers: { authorization: "Bearer token-of-the-admin-0000000000" },
    });
    await admin.arrayBuffer();
    assert.equal(admin.status, 200);
  } finally {
    p.child.kill("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await p.exit, 0);
  const both = run(["--no-admin", `--admin-token-file=${join(dir, "x")}`]);
  assert.equal(await both.exit, 2);
  assert.match(both.err(), /--no-admin and --admin-token-file exclude each other/);
});
