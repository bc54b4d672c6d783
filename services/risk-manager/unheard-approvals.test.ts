/**
 * Approvals no execution engine took: written off after the intent lifetime when Postgres has
 * no order for them (their pending quantity freed, so trading is not blocked for good); kept when
 * the engine has the order or Postgres cannot answer; forgotten once an update names them.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestDatabase, withMigratedDatabase } from "../../test/support/pg.ts";
import { symbolExposure } from "./core/state.ts";
import { stepRisk } from "./core/step.ts";
import { d, hold, proposal, propose, T0, tradableState } from "./core/test-support.ts";
import { unheardApprovals } from "./unheard-approvals.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  await db.drop();
});

test("an approval no engine took is written off after the lifetime; one Postgres holds is kept", async () => {
  const state = tradableState({ maxVar99: "1000000", maxSectorConcentration: 1 });
  hold(state, "XOM", 10, 10);
  let wallMs = 1_000_000;
  const unheard = unheardApprovals({
    db: db.pool,
    step: (e) => stepRisk(state, e),
    nowNs: () => T0,
    nowMs: () => wallMs,
    voidAfterMs: 60_000,
  });
  // Sell 10 closes XOM; it is approved and published, and no engine ever hears of it.
  const lost = propose(state, proposal("XOM", "sell", 10, 10));
  assert.ok(lost.approved);
  unheard.approved(lost.clientOrderId);
  // A buy of another symbol reaches the engine: Postgres has its order (no update seen yet).
  const taken = propose(state, proposal("CVX", "buy", 5, 10));
  assert.ok(taken.approved);
  unheard.approved(taken.clientOrderId);
  await db.pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status, fencing_epoch)
     VALUES ($1, $1, 'CVX', 'buy', 'market', 5, 'new', 0)`,
    [taken.clientOrderId],
  );
  // A third is heard of (an order update named it): never written off.
  const heard = propose(state, proposal("BP", "buy", 5, 10));
  unheard.approved(heard.clientOrderId);
  unheard.heard(heard.clientOrderId);

  // While the sell is pending, XOM's 10 are committed: another sell has nothing to close.
  assert.equal(propose(state, proposal("XOM", "sell", 10, 10)).reason, "crosses_zero");
  wallMs += 59_999;
  assert.deepEqual(await unheard.sweep(), [], "within the lifetime nothing is written off");
  wallMs += 1;
  assert.deepEqual(await unheard.sweep(), [lost.clientOrderId]);
  assert.equal(symbolExposure(state, "XOM").pendingSell, 0n, "the lost sell's 10 are free again");
  assert.equal(symbolExposure(state, "CVX").pendingBuy, d(5), "the engine's order still counts");
  assert.equal(symbolExposure(state, "BP").pendingBuy, d(5), "the heard order still counts");
  assert.equal(unheard.size, 0, "each approval is looked at once");
  assert.ok(propose(state, proposal("XOM", "sell", 10, 10)).approved, "XOM can be closed again");
});

test("when Postgres cannot answer, nothing is written off and the approval is tried again", async () => {
  const state = tradableState();
  let wallMs = 0;
  let failing = true;
  const unheard = unheardApprovals({
    db: {
      query: ((text: string, values: unknown[]) =>
        failing
          ? Promise.reject(new Error("connection refused"))
          : db.pool.query(text, values)) as typeof db.pool.query,
    },
    step: (e) => stepRisk(state, e),
    nowNs: () => T0,
    nowMs: () => wallMs,
    voidAfterMs: 1_000,
  });
  const a = propose(state, proposal("XOM", "buy", 10, 10));
  unheard.approved(a.clientOrderId);
  wallMs = 5_000;
  await assert.rejects(unheard.sweep(), /connection refused/);
  assert.equal(symbolExposure(state, "XOM").pendingBuy, d(10), "kept while unknown");
  failing = false;
  assert.deepEqual(await unheard.sweep(), [a.clientOrderId]);
  assert.equal(symbolExposure(state, "XOM").pendingBuy, 0n);
});
