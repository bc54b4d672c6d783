/**
 * `tradepipe sim`: starts, prints its URLs and keys, serves, and exits 0 on SIGINT; bad flags
 * exit 2 with a message naming the flag.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
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
