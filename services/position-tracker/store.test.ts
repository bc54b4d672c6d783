/**
 * Position rows the database cannot take for now (its disk full: SQLSTATE 53100, raised here by
 * a trigger on real Postgres) are written once it can, without waiting for the next fill of the
 * symbol, and as the position is then: never an older row over a newer one.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type DiskFullSwitch, installDiskFullSwitch } from "../../test/support/disk-full-switch.ts";
import { type TestDatabase, withMigratedDatabase } from "../../test/support/pg.ts";
import { acquireLeadership, type Leadership } from "../core/db/leadership.ts";
import { fromDecimal } from "../core/money.ts";
import { createLogger } from "../core/telemetry/index.ts";
import { createPosition } from "./core/index.ts";
import { positionStore } from "./store.ts";

let db: TestDatabase;
let term: Leadership | null;
let diskFull: DiskFullSwitch;
before(async () => {
  db = await withMigratedDatabase();
  term = await acquireLeadership(db.pool, "position-tracker", "store-test", {
    renewIntervalMs: 0,
  });
  diskFull = await installDiskFullSwitch(db.pool, "positions");
});
after(async () => {
  await term?.release();
  await db.drop();
});

const log = createLogger({ name: "position-store-test", level: "silent" });

function position(symbol: string, qty: string) {
  return { ...createPosition(symbol), qty: fromDecimal(qty) };
}

const qtyOf = async (symbol: string) =>
  (
    await db.pool.query<{ qty: string }>("SELECT qty::text FROM positions WHERE symbol = $1", [
      symbol,
    ])
  ).rows[0]?.qty;

test("positions refused for a full disk are written once space is back, the latest row of each", async () => {
  assert.ok(term, "the test leads the position-tracker stage");
  const store = positionStore(db.pool, term.epoch, log);
  try {
    await diskFull.on();
    store.upsertPositions([position("AAPL", "10")], () => "tech");
    await store.flush();
    store.upsertPositions([position("AAPL", "20"), position("MSFT", "5")], () => "tech");
    await store.flush();
    assert.equal(await qtyOf("AAPL"), undefined, "the full disk refused the rows");

    await diskFull.off();
    for (let i = 0; i < 200 && (await qtyOf("MSFT")) === undefined; i++) await sleep(50);
    assert.equal(Number(await qtyOf("AAPL")), 20, "AAPL as it is now, not the older row");
    assert.equal(Number(await qtyOf("MSFT")), 5);
  } finally {
    store.stop();
  }
});
