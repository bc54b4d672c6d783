import assert from "node:assert/strict";
import { test } from "node:test";
import { describeServer } from "./local-run.ts";

test("the embedded server's status line: up, restarting after a crash, given up", () => {
  assert.equal(describeServer({ state: "up", restarts: 0, pid: 7 }), "embedded server up (pid 7)");
  const lastCrash = { how: "killed by SIGKILL", at: "2026-12-07T14:38:43.219Z" };
  assert.equal(
    describeServer({ state: "restarting", restarts: 0, pid: 7, lastCrash }),
    "embedded server crashed (last crash killed by SIGKILL at 2026-12-07T14:38:43.219Z): restarting it (WAL recovery)",
  );
  assert.equal(
    describeServer({ state: "up", restarts: 1, pid: 9, lastCrash, lastRecoveryMs: 2896 }),
    "embedded server up (pid 9), restarted 1× after a crash (last crash killed by SIGKILL at 2026-12-07T14:38:43.219Z), back in 2.9 s",
  );
  assert.match(
    describeServer({ state: "failed", restarts: 3, pid: 9, lastCrash }),
    /keeps crashing: gave up/,
  );
});
