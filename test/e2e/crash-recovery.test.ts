/**
 * Crash recovery of the multi-process pipeline: each stage process is killed with SIGKILL in
 * turn while orders flow; the supervisor restarts it. Afterwards no client_order_id reached the
 * broker twice, every fill the broker reported is in the database, positions equal the
 * broker's, and every order sent has its audit trail.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { fromDecimal } from "../../services/core/money.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { withMigratedDatabase } from "../support/pg.ts";
import {
  defaultPipeline,
  duplicateSends,
  simState,
  startRun,
  startTestSimulator,
  waitFor,
} from "./support.ts";

test("kill -9 of each stage in turn loses and duplicates nothing", {
  timeout: 600_000,
}, async () => {
  const db = await withMigratedDatabase();
  const pipeline = await defaultPipeline();
  const sim = await startTestSimulator(pipeline, 5);
  const { run, stop, handle } = startRun({
    pipeline,
    simulator: sim,
    databaseUrl: db.url,
    fused: false,
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  try {
    const h = await waitFor("the pipeline to start", 60_000, handle);
    const allReady = () => h.status().stages.every((s) => s.up && s.ready);
    await waitFor("every stage ready", 90_000, allReady);
    await waitFor("the first fill", 90_000, () => simState(sim).fills.length > 0);
    for (const stage of STAGE_PROCESSES) {
      const pid = h.pid(stage);
      assert.ok(pid, `${stage} has a process`);
      const before = simState(sim).order_requests.length;
      process.kill(pid, "SIGKILL");
      await waitFor(`${stage} restarted`, 30_000, () => {
        const p = h.pid(stage);
        return p !== undefined && p !== pid;
      });
      await waitFor(`every stage ready after ${stage} restarted`, 90_000, allReady);
      // Orders keep flowing after the restart.
      await waitFor(
        `an order after ${stage} restarted`,
        120_000,
        () => simState(sim).order_requests.length > before,
      );
    }
    // Quiesce before comparing: the kill switch stops new orders and cancels open ones. An order
    // already on its way when it engaged may still reach the broker, so wait until the risk-manager
    // reports it engaged and the broker has seen no new order and no open one for 2 s; then the
    // database must catch up with everything the broker did.
    await pool.query("SELECT tp_set_kill_switch(true, 'crash test: quiesce', 'test')");
    await waitFor("the kill switch to reach the risk-manager", 30_000, () => h.status().killSwitch);
    const openStatuses = new Set(["new", "accepted", "pending_new", "partially_filled"]);
    let lastCount = -1;
    let stableSince = Date.now();
    await waitFor("the broker to be quiet for 2 s", 60_000, () => {
      const s = simState(sim);
      const open = s.orders.some((o) => openStatuses.has(o.status));
      if (open || s.order_requests.length !== lastCount) {
        lastCount = s.order_requests.length;
        stableSince = Date.now();
        return false;
      }
      return Date.now() - stableSince >= 2_000;
    });
    const positionsOf = async () => {
      const rows = await pool.query<{ symbol: string; qty: string }>(
        "SELECT symbol, qty::text FROM positions",
      );
      return new Map(rows.rows.map((r) => [r.symbol, fromDecimal(r.qty)]));
    };
    const theirsNow = () =>
      new Map(simState(sim).positions.map((p) => [p.symbol, fromDecimal(p.qty)]));
    const same = (a: Map<string, bigint>, b: Map<string, bigint>) =>
      [...new Set([...a.keys(), ...b.keys()])].every((k) => (a.get(k) ?? 0n) === (b.get(k) ?? 0n));
    // A timeout here falls through to the assertions below, which say what differs.
    await waitFor("the database's positions to catch up with the broker's", 30_000, async () =>
      same(await positionsOf(), theirsNow()),
    ).catch(() => {});
    const trackerView = h.status().positions;
    stop();
    await run;

    const state = simState(sim);
    assert.deepEqual(duplicateSends(state), [], "no client_order_id was sent twice");

    const dbFills = await pool.query<{ client_order_id: string; qty: string }>(
      "SELECT client_order_id, sum(qty)::text AS qty FROM fills GROUP BY client_order_id",
    );
    const filledInDb = new Map(dbFills.rows.map((r) => [r.client_order_id, fromDecimal(r.qty)]));
    for (const o of state.orders) {
      const brokerFilled = fromDecimal(o.filled_qty ?? "0");
      if (brokerFilled === 0n) continue;
      assert.equal(
        filledInDb.get(o.client_order_id) ?? 0n,
        brokerFilled,
        `fills of ${o.client_order_id}`,
      );
    }

    const dbPositions = await pool.query<{ symbol: string; qty: string }>(
      "SELECT symbol, qty::text FROM positions",
    );
    const ours = new Map(dbPositions.rows.map((r) => [r.symbol, fromDecimal(r.qty)]));
    const theirs = new Map(state.positions.map((p) => [p.symbol, fromDecimal(p.qty)]));
    for (const sym of new Set([...ours.keys(), ...theirs.keys()])) {
      if ((ours.get(sym) ?? 0n) === (theirs.get(sym) ?? 0n)) continue;
      // Say what each side booked, so a failure shows where the two parted.
      const booked = await pool.query(
        "SELECT id, client_order_id, execution_id, side, qty::text, filled_at FROM fills WHERE symbol = $1 ORDER BY filled_at, id",
        [sym],
      );
      const reported = state.fills.filter((f) => f.symbol === sym);
      assert.fail(
        `position in ${sym}: ours ${ours.get(sym) ?? 0n}, broker's ${theirs.get(sym) ?? 0n}\n` +
          `tracker's live view: ${JSON.stringify(trackerView.filter((p) => p.symbol === sym))}\n` +
          `fills table: ${JSON.stringify(booked.rows)}\nbroker fills: ${JSON.stringify(reported)}`,
      );
    }

    const audited = await pool.query<{ client_order_id: string }>(
      "SELECT DISTINCT client_order_id FROM order_audit_trail WHERE client_order_id IS NOT NULL",
    );
    const auditedIds = new Set(audited.rows.map((r) => r.client_order_id));
    for (const r of state.order_requests) {
      if (r.client_order_id)
        assert.ok(auditedIds.has(r.client_order_id), `audit trail of ${r.client_order_id}`);
    }
  } finally {
    stop();
    await run.catch(() => {});
    await pool.end();
    await sim.close();
    await db.drop();
  }
});
