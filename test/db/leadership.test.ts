import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import {
  isStaleEpochError,
  SQLSTATE_STALE_EPOCH,
  translateDbError,
} from "../../services/core/db/errors.ts";
import { acquireLeadership, waitForLeadership } from "../../services/core/db/leadership.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
let poolB: pg.Pool;
before(async () => {
  db = await withMigratedDatabase();
  // A second pool stands for a second instance of the stage (another process or host).
  poolB = new pg.Pool({ connectionString: db.url, max: 4 });
  // pool.end() does not wait for sockets to close; dropping the database may cut one short.
  poolB.on("error", () => {});
});
after(async () => {
  await poolB.end();
  await db.drop();
});

let orderSeq = 0;
function insertOrder(pool: pg.Pool | pg.PoolClient, epoch: number) {
  orderSeq += 1;
  return pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, limit_price, fencing_epoch)
     VALUES ($1, $2, 'AAPL', 'buy', 'limit', '10', '187.25', $3)`,
    [`tp-default-sig-${orderSeq}`, `corr-${orderSeq}`, epoch],
  );
}

function refusedAsStale(err: unknown): boolean {
  assert.equal((err as { code?: string }).code, SQLSTATE_STALE_EPOCH);
  assert.ok(isStaleEpochError(err));
  assert.ok(isTradepipeError(translateDbError(err), "TP_ERR_STALE_EPOCH"));
  return true;
}

test("two contenders for one stage: exactly one becomes leader", async () => {
  const [a, b] = await Promise.all([
    acquireLeadership(db.pool, "signal-bridge", "host-a"),
    acquireLeadership(poolB, "signal-bridge", "host-b"),
  ]);
  const leaders = [a, b].filter((x) => x !== null);
  assert.equal(leaders.length, 1);
  const leader = leaders[0];
  assert.ok(leader);
  assert.equal(leader.epoch, 1);
  const row = await db.pool.query(
    "SELECT holder, epoch FROM stage_leadership WHERE stage = 'signal-bridge'",
  );
  assert.deepEqual(row.rows[0], { holder: leader.holder, epoch: "1" });

  // The loser keeps failing while the leader holds on; after release it takes over, epoch + 1.
  const loserPool = leader === a ? poolB : db.pool;
  assert.equal(await acquireLeadership(loserPool, "signal-bridge", "again"), null);
  await leader.release();
  const next = await acquireLeadership(loserPool, "signal-bridge", "successor");
  assert.ok(next);
  assert.equal(next.epoch, 2);
  await next.release();
});

test("different stages lead independently", async () => {
  const x = await acquireLeadership(db.pool, "market-data", "h1");
  const y = await acquireLeadership(poolB, "risk-manager", "h2");
  assert.ok(x && y);
  await Promise.all([x.release(), y.release()]);
});

test("a write stamped with a stale epoch is refused by the database", async () => {
  const first = await acquireLeadership(db.pool, "execution-engine", "engine-1");
  assert.ok(first);
  await insertOrder(db.pool, first.epoch);

  // The first leader is deposed (its lock connection dies; here it releases) and another
  // instance takes over. The old instance, not yet aware, keeps writing with its old epoch.
  await first.release();
  const second = await acquireLeadership(poolB, "execution-engine", "engine-2");
  assert.ok(second);
  assert.equal(second.epoch, first.epoch + 1);

  await assert.rejects(insertOrder(db.pool, first.epoch), refusedAsStale);
  await assert.rejects(
    db.pool.query("UPDATE orders SET status = 'submitted', fencing_epoch = $1", [first.epoch]),
    refusedAsStale,
  );
  // An update that forgets to stamp keeps the row's old epoch and is refused too.
  await assert.rejects(db.pool.query("UPDATE orders SET status = 'submitted'"), refusedAsStale);
  await assert.rejects(
    db.pool.query(
      `INSERT INTO order_audit_trail (stage, event_type, correlation_id, occurred_at, fencing_epoch)
       VALUES ('execution-engine', 'intent', 'c', now(), $1)`,
      [first.epoch],
    ),
    refusedAsStale,
  );
  // A made-up future epoch is refused as well.
  await assert.rejects(insertOrder(poolB, second.epoch + 5), /unknown fencing epoch/);

  await insertOrder(poolB, second.epoch);
  await poolB.query("UPDATE orders SET status = 'submitted', fencing_epoch = $1", [second.epoch]);
  const r = await db.pool.query(
    "SELECT count(*)::int AS n, min(fencing_epoch)::int AS e FROM orders",
  );
  assert.deepEqual(r.rows[0], { n: 2, e: second.epoch });
  await second.release();
});

test("the error names the stage, the write's epoch and the current one", async () => {
  const lead = await acquireLeadership(db.pool, "position-tracker", "pt");
  assert.ok(lead);
  await assert.rejects(
    db.pool.query(
      "INSERT INTO positions (symbol, qty, avg_entry_price, fencing_epoch) VALUES ('MSFT', 1, 400, $1)",
      [lead.epoch - 1],
    ),
    (err: unknown) =>
      refusedAsStale(err) &&
      /stale fencing epoch: INSERT on positions carries epoch 0, but the current epoch of stage position-tracker is 1/.test(
        (err as Error).message,
      ),
  );
  await lead.release();
});

test("a leader change waits for the old leader's in-flight write, then fences it", async () => {
  const old = await acquireLeadership(db.pool, "risk-manager", "rm-old");
  assert.ok(old);
  const tx = await db.pool.connect();
  try {
    await tx.query("BEGIN");
    await tx.query("UPDATE risk_state SET circuit_state = 'open', fencing_epoch = $1", [old.epoch]);
    await old.release();

    // The new leader's epoch bump must queue behind the uncommitted write.
    const takeover = acquireLeadership(poolB, "risk-manager", "rm-new");
    await waitUntil(async () => {
      const r = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%stage_leadership%'`,
      );
      return r.rows[0].n === 1;
    });
    await tx.query("COMMIT");
    const next = await takeover;
    assert.ok(next);
    assert.equal(next.epoch, old.epoch + 1);

    const state = await db.pool.query("SELECT circuit_state FROM risk_state");
    assert.equal(state.rows[0].circuit_state, "open", "the write made before the change stands");
    await assert.rejects(
      tx.query("UPDATE risk_state SET circuit_state = 'closed', fencing_epoch = $1", [old.epoch]),
      refusedAsStale,
    );
    await next.release();
  } finally {
    tx.release();
  }
});

test("the kill switch can be engaged from outside the risk manager at any time", async () => {
  const rm = await acquireLeadership(db.pool, "risk-manager", "rm");
  assert.ok(rm);
  const r = await poolB.query(
    "SELECT kill_switch_engaged, kill_switch_reason, fencing_epoch FROM tp_set_kill_switch(true, 'manual halt', 'cli')",
  );
  assert.deepEqual(r.rows[0], {
    kill_switch_engaged: true,
    kill_switch_reason: "manual halt",
    fencing_epoch: String(rm.epoch),
  });
  await rm.release();
});

test("losing the lock connection settles `lost`", async () => {
  const lead = await acquireLeadership(db.pool, "lost-test", "victim", { renewIntervalMs: 0 });
  assert.ok(lead);
  await poolB.query(
    `SELECT pg_terminate_backend(pid) FROM pg_locks
      WHERE locktype = 'advisory' AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND objid = (hashtextextended('tradepipe.stage:lost-test', 0) & 4294967295)::oid`,
  );
  const reason = await lead.lost;
  assert.ok(reason instanceof Error);
  await lead.release();
  const successor = await waitForLeadership(poolB, "lost-test", "successor", { pollMs: 20 });
  assert.ok(successor);
  assert.equal(successor.epoch, lead.epoch + 1);
  await successor.release();
});

test("waitForLeadership resolves null when aborted", async () => {
  const holder = await acquireLeadership(db.pool, "wait-test", "holder");
  assert.ok(holder);
  const ac = new AbortController();
  const waiting = waitForLeadership(poolB, "wait-test", "standby", {
    pollMs: 10,
    signal: ac.signal,
  });
  ac.abort();
  assert.equal(await waiting, null);
  await holder.release();
});

async function waitUntil(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached within 5 s");
}
