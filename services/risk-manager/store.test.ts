/**
 * A risk_state write the database cannot take for now (its disk full: SQLSTATE 53100, raised
 * here by a trigger on real Postgres) is kept and written again once it can, without waiting for
 * the next change of the risk state (a breaker that opened must survive a restart).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type DiskFullSwitch, installDiskFullSwitch } from "../../test/support/disk-full-switch.ts";
import { type TestDatabase, withMigratedDatabase } from "../../test/support/pg.ts";
import { acquireLeadership, type Leadership } from "../core/db/leadership.ts";
import { createLogger } from "../core/telemetry/index.ts";
import { type RiskRow, riskStore } from "./store.ts";

let db: TestDatabase;
let term: Leadership | null;
let diskFull: DiskFullSwitch;
before(async () => {
  db = await withMigratedDatabase();
  term = await acquireLeadership(db.pool, "risk-manager", "store-test", { renewIntervalMs: 0 });
  diskFull = await installDiskFullSwitch(db.pool, "risk_state");
});
after(async () => {
  await term?.release();
  await db.drop();
});

const log = createLogger({ name: "risk-store-test", level: "silent" });

function row(breaker: RiskRow["breaker"]): RiskRow {
  return {
    core: {
      version: 1,
      killSwitch: { engaged: false, requestedBy: "", reason: "", sinceNs: "0" },
      halt: { all: false, symbols: [], reason: "" },
      breaker: { status: breaker, openedAtNs: "0", failuresNs: [] },
      day: { index: 0, startPnl: null },
      rejectsByReason: {},
      rejectsToday: 0,
    },
    breaker,
    tradingDay: null,
    dailyPnl: 0n,
    equityPeak: null,
    valueAtRisk99: 0n,
  };
}

const circuit = async () =>
  (await db.pool.query<{ s: string }>("SELECT circuit_state AS s FROM risk_state")).rows[0]?.s;

test("a risk_state write refused for a full disk is written once space is back, with no new change", async () => {
  assert.ok(term, "the test leads the risk-manager stage");
  const store = riskStore(db.pool, term.epoch, log);
  try {
    await diskFull.on();
    store.write(row("open"));
    await store.flush();
    assert.notEqual(await circuit(), "open", "the full disk refused the write");

    await diskFull.off();
    for (let i = 0; i < 200 && (await circuit()) !== "open"; i++) await sleep(50);
    assert.equal(await circuit(), "open", "the kept row was written once the disk took writes");
  } finally {
    store.stop();
  }
});
