/**
 * The leadership deadline and the connection rules that let a stage notice a database that went
 * away: a renewal that hangs counts as failed (leadership lost, the lock freed); a leader may act
 * only while its last renewal is recent; a successor of a leader that did not release waits out
 * the takeover time, one after a clean release does not; read-only servers are refused; and the
 * errors of an outage are told apart from a stage's own.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { isDatabaseUnavailable } from "../../services/core/db/errors.ts";
import {
  type AcquireOptions,
  acquireLeadership,
  waitForLeadership,
} from "../../services/core/db/leadership.ts";
import { createStagePool, targetSessionAttrs } from "../../services/core/db/pool.ts";
import { isTradepipeError, TradepipeError } from "../../services/core/errors.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
let other: pg.Pool;
// Short timings so the tests run in moments; the rule is the same as the defaults'.
const FAST: AcquireOptions = {
  renewIntervalMs: 100,
  renewTimeoutMs: 300,
  actBoundMs: 600,
  takeoverWaitMs: 900,
};

before(async () => {
  db = await withMigratedDatabase();
  other = new pg.Pool({ connectionString: db.url, max: 4 });
  other.on("error", () => {});
});
after(async () => {
  await other.end();
  await db.drop();
});

test("a renewal that hangs counts as failed: leadership is lost, no more acting, the lock is freed", async () => {
  const lead = await acquireLeadership(db.pool, "deadline-hang", "victim", FAST);
  assert.ok(lead);
  assert.equal(lead.mayAct(), true);
  // Another session holds the leadership row: the next renewal (an UPDATE of it) waits forever,
  // as it would on a primary that stopped answering.
  const blocker = await other.connect();
  try {
    await blocker.query("BEGIN");
    await blocker.query("SELECT * FROM stage_leadership WHERE stage = 'deadline-hang' FOR UPDATE");
    const reason = await lead.lost;
    assert.ok(isTradepipeError(reason, "TP_ERR_LEADERSHIP_DEADLINE"), reason.message);
    assert.equal(lead.mayAct(), false, "a leader past its deadline may not act");
  } finally {
    await blocker.query("ROLLBACK");
    blocker.release();
  }
  await lead.release();
  // The hung connection was destroyed, so its session (and the lock) is gone: another leads.
  const next = await waitForLeadership(other, "deadline-hang", "successor", {
    ...FAST,
    pollMs: 20,
  });
  assert.ok(next);
  assert.equal(next.epoch, lead.epoch + 1);
  await next.release();
});

test("without renewals a leader stops acting once the act bound has passed", async () => {
  const lead = await acquireLeadership(db.pool, "deadline-silent", "quiet", {
    ...FAST,
    renewIntervalMs: 0,
  });
  assert.ok(lead);
  assert.equal(lead.mayAct(), true);
  const reason = await lead.lost;
  assert.ok(isTradepipeError(reason, "TP_ERR_LEADERSHIP_DEADLINE"), reason.message);
  assert.equal(lead.mayAct(), false);
  await lead.release();
});

test("a successor waits out the takeover time only after a leader that did not release", async () => {
  const waits: number[] = [];
  const opts = { ...FAST, onTakeoverWait: (ms: number) => waits.push(ms) };
  const first = await acquireLeadership(db.pool, "deadline-takeover", "one", opts);
  assert.ok(first);
  await first.release();
  const second = await acquireLeadership(other, "deadline-takeover", "two", opts);
  assert.ok(second);
  assert.deepEqual(waits, [], "after a clean release the successor leads at once");
  // The second leader's session is cut off: it never released.
  await db.pool.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%stage_leadership%' AND datname = current_database()",
  );
  await second.lost;
  await second.release();
  const third = await waitForLeadership(db.pool, "deadline-takeover", "three", {
    ...opts,
    pollMs: 20,
  });
  assert.ok(third);
  assert.deepEqual(waits, [FAST.takeoverWaitMs], "the successor of an unreleased leader waited");
  assert.equal(third.mayAct(), true);
  await third.release();
});

test("a read-only server is refused: no session from the stage pool, no leadership", async () => {
  const name = new URL(db.url).pathname.slice(1);
  await other.query(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
  const stagePool = createStagePool(db.url, { max: 1 });
  stagePool.on("error", () => {});
  try {
    await assert.rejects(stagePool.query("SELECT 1"), (err: unknown) => {
      assert.ok(isDatabaseUnavailable(err), String(err));
      return /read-only/.test((err as Error).message);
    });
    const plain = new pg.Pool({ connectionString: db.url, max: 1 });
    await assert.rejects(acquireLeadership(plain, "deadline-ro", "ro"), (err: unknown) =>
      isTradepipeError(err, "TP_ERR_DB_UNAVAILABLE"),
    );
    await plain.end();
  } finally {
    await other.query(`ALTER DATABASE "${name}" RESET default_transaction_read_only`);
    await stagePool.end();
  }
});

test("target_session_attrs is read from the URL and not passed on to the server", () => {
  assert.deepEqual(targetSessionAttrs("postgres://u:p@h:5432/d?target_session_attrs=read-write"), {
    url: "postgres://u:p@h:5432/d",
    attrs: "read-write",
  });
  assert.deepEqual(targetSessionAttrs("postgres://u:p@h/d"), {
    url: "postgres://u:p@h/d",
    attrs: undefined,
  });
  assert.throws(
    () => createStagePool("postgres://u:p@h/d?target_session_attrs=standby"),
    /target_session_attrs=standby/,
  );
});

test("the errors of a database outage are told apart from a stage's own", () => {
  const outage = [
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    new Error("Connection terminated unexpectedly"),
    new Error("Query read timeout"),
    Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
    }),
    Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
    Object.assign(new Error("cannot execute UPDATE in a read-only transaction"), {
      code: "25006",
    }),
    new TradepipeError("TP_ERR_LEADERSHIP_DEADLINE"),
    new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]),
  ];
  for (const err of outage) assert.equal(isDatabaseUnavailable(err), true, String(err));
  const own = [
    new TypeError("cannot read properties of undefined"),
    Object.assign(new Error('relation "nope" does not exist'), { code: "42P01" }),
    Object.assign(new Error("stale fencing epoch"), { code: "TP001" }),
    new TradepipeError("TP_ERR_CONFIG", "sector map broken"),
  ];
  for (const err of own) assert.equal(isDatabaseUnavailable(err), false, String(err));
});
