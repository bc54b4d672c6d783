import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Supervisor } from "../../services/supervisor/supervisor.ts";

const fixture = fileURLToPath(new URL("./fixture-child.ts", import.meta.url));
const fastPolicy = {
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  fastCrashMs: 2_000,
  maxFastCrashes: 3,
};

test("a child killed with SIGKILL is restarted and reports status again", async () => {
  const sup = new Supervisor(fastPolicy);
  try {
    sup.start({ name: "serve", module: fixture, args: ["serve"] });
    const [, first] = await once(sup, "status");
    const firstPid = (first as { pid: number }).pid;
    process.kill(firstPid, "SIGKILL");
    const [, why] = await once(sup, "exited");
    assert.equal(why, "killed by SIGKILL");
    let status: { pid: number };
    do {
      [, status] = (await once(sup, "status")) as [string, { pid: number }];
    } while (status.pid === firstPid);
    assert.notEqual(status.pid, firstPid);
    assert.equal(sup.states()[0]?.restarts, 1);
  } finally {
    await sup.stop();
  }
  assert.equal(sup.states()[0]?.running, false);
});

test("a child that keeps crashing fast is given up on with the reason", async () => {
  const sup = new Supervisor(fastPolicy);
  try {
    const gaveUp = once(sup, "gave-up");
    sup.start({ name: "crash", module: fixture, args: ["crash"] });
    const [name, reason] = await gaveUp;
    assert.equal(name, "crash");
    assert.match(reason, /crashed 3 times in a row/);
    assert.equal(sup.states()[0]?.lastExit, "exited with code 3");
  } finally {
    await sup.stop();
  }
});
