/**
 * Active-passive: two execution-engine instances run at once against one database and one
 * simulator, each on its own bus fed the same intents (as two processes would be). Only the
 * leader ever sends an order; the standby waits on the stage lock. When the leader stops, the
 * standby takes over under a higher fencing epoch, rebuilds from Postgres, does not resend what
 * the first one sent, and the database refuses a write stamped with the old epoch.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { InProcBus } from "../../services/core/bus/index.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import { isStaleEpochError } from "../../services/core/db/errors.ts";
import { OrderEvent } from "../../services/core/messages/index.ts";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { createLogger, createMetrics, type Metrics } from "../../services/core/telemetry/index.ts";
import { ExecutionStore } from "../../services/execution-engine/store.ts";
import { simulatorEndpoints } from "../../services/pipeline/broker-connection.ts";
import {
  type HostDeps,
  loadSectors,
  type StageInstance,
  startStageInstance,
} from "../../services/pipeline/host.ts";
import { sharedMetrics } from "../../services/pipeline/metrics.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import {
  coid,
  currentEpoch,
  eventually,
  PIPELINE,
  publishIntent,
  publishQuote,
  SYMBOLS,
  updatesOf,
} from "./execution-support.ts";
import { waitFor } from "./stage-harness.ts";

interface Contender {
  bus: InProcBus;
  metrics: Metrics;
  abort: AbortController;
  instance: Promise<StageInstance | null>;
  started?: StageInstance | null;
  /** how many connections this instance has taken from the pool: a standby takes one per lock attempt. */
  connects: number;
}

let sim: Simulator;
let db: TestDatabase;
const contenders: Contender[] = [];

before(async () => {
  sim = await startSimulator({
    seed: 3,
    symbols: ["AAPL"],
    clock: "manual",
    partialFillProbability: 0,
  });
  sim.admin.setQuote("AAPL", "190.00", "190.02");
  db = await withMigratedDatabase();
});

after(async () => {
  for (const c of contenders) {
    c.abort.abort();
    const i = await c.instance.catch(() => null);
    await i?.stop();
    await c.bus.close();
  }
  await sim.close();
  await db.drop();
});

async function contender(): Promise<Contender> {
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: PIPELINE },
    spec: { symbols: SYMBOLS, broker: { kind: "simulator" } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const bus = new InProcBus();
  // Each contender has its own registry, as two processes would.
  const metrics = sharedMetrics(createMetrics({ defaultMetrics: false }));
  const abort = new AbortController();
  const counted = { connects: 0 };
  // The shared pool, counting this instance's checkouts (its lock attempts while it stands by).
  const pool = new Proxy(db.pool, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (key === "connect") {
        return (...args: unknown[]) => {
          counted.connects++;
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  const deps: HostDeps = {
    pipeline: parsed.pipeline,
    bus,
    db: pool,
    log: createLogger({
      name: "test",
      level: "warn",
      destination: new Writable({ write: (_c, _e, d) => d() }),
    }),
    metrics,
    broker: {
      kind: "simulator",
      endpoints: simulatorEndpoints(sim.tradingUrl, parsed.pipeline.spec.broker.dataFeed),
      credentials: new Credentials(sim.keys.keyId, sim.keys.secretKey, "test"),
    },
    sectors: await loadSectors(),
    routes: {},
    controlRoutes: {},
    signal: abort.signal,
  };
  const c: Contender = {
    bus,
    metrics,
    abort,
    instance: startStageInstance("execution-engine", deps),
    get connects() {
      return counted.connects;
    },
  };
  void c.instance.then((i) => {
    c.started = i;
  });
  contenders.push(c);
  return c;
}

async function submitted(m: Metrics): Promise<number> {
  const metric = await m.registry.getSingleMetric("tradepipe_orders_submitted_total")?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

test("two engines at once: only the leader sends; the standby takes over with a higher epoch", async () => {
  const a = await contender();
  await waitFor(() => a.started !== undefined, "first instance leads");
  const leader = a.started!;
  await waitFor(() => leader.readiness.report().ready, "first instance ready");
  const b = await contender();
  const epochA = await currentEpoch(db.pool);

  const updatesA: BusMessage[] = [];
  const updatesB: BusMessage[] = [];
  a.bus.subscribe(["order.update/*"], (m) => updatesA.push(m));
  b.bus.subscribe(["order.update/*"], (m) => updatesB.push(m));

  const ids = ["ha-1", "ha-2", "ha-3"];
  for (const c of [a, b]) publishQuote(c.bus, "AAPL", "190.00", "190.02");
  for (const signalId of ids) {
    for (const c of [a, b]) publishIntent(c.bus, { signalId, decisionPrice: "190.01" });
  }
  await waitFor(
    () => ids.every((s) => updatesOf(updatesA, coid(s)).some((u) => u.event === OrderEvent.FILL)),
    "fills through the leader",
  );
  // The standby has seen the intents on its bus; it must have gone for the lock again (twice,
  // so at least one whole attempt began after the fills) and been refused before we look.
  const attemptsAtFills = b.connects;
  await waitFor(
    () => b.connects >= attemptsAtFills + 2,
    "the standby tried for the lock twice more",
  );
  assert.equal(b.started, undefined, "the standby must still be waiting for the lock");
  assert.equal(await currentEpoch(db.pool), epochA, "the standby never took the stage's epoch");
  assert.equal(updatesB.length, 0);
  assert.equal(await submitted(b.metrics), 0);
  const state = sim.admin.state();
  for (const s of ids) {
    assert.equal(state.order_requests.filter((r) => r.client_order_id === coid(s)).length, 1);
  }

  // The leader stops: the standby leads under a higher epoch and picks up from Postgres.
  await leader.stop();
  await waitFor(() => b.started !== undefined && b.started !== null, "standby takes over", 15_000);
  const follower = b.started!;
  await waitFor(() => follower.readiness.report().ready, "standby recovered");
  const epochB = await currentEpoch(db.pool);
  assert.ok(epochB > epochA, `epoch ${epochB} > ${epochA}`);

  publishQuote(b.bus, "AAPL", "190.00", "190.02");
  publishIntent(b.bus, { signalId: "ha-1", decisionPrice: "190.01" }); // already done: no resend
  publishIntent(b.bus, { signalId: "ha-4", decisionPrice: "190.01" });
  await waitFor(
    () => updatesOf(updatesB, coid("ha-4")).some((u) => u.event === OrderEvent.FILL),
    "fill through the new leader",
  );
  const after = sim.admin.state();
  for (const s of [...ids, "ha-4"]) {
    assert.equal(after.order_requests.filter((r) => r.client_order_id === coid(s)).length, 1, s);
  }
  assert.equal(await submitted(a.metrics), 3);
  assert.equal(await submitted(b.metrics), 1);
  const orderEpochs = async () =>
    (
      await db.pool.query<{ client_order_id: string; fencing_epoch: string }>(
        "SELECT client_order_id, fencing_epoch FROM orders ORDER BY id",
      )
    ).rows.map((r) => [r.client_order_id, Number(r.fencing_epoch)]);
  // The order rows are written behind the journal: the fill on the bus can come before the row
  // that records it, so wait for the new leader's writes to reach Postgres before comparing.
  await eventually(async () => {
    const rows = await orderEpochs();
    return rows.length === 4 && rows[0]?.[1] === epochB;
  }, "the new leader's order rows in Postgres");
  // Rows the new leader touched (ha-1's duplicate intent, ha-4) carry its epoch; the rest the old.
  assert.deepEqual(await orderEpochs(), [
    [coid("ha-1"), epochB],
    [coid("ha-2"), epochA],
    [coid("ha-3"), epochA],
    [coid("ha-4"), epochB],
  ]);

  // A write stamped with the deposed leader's epoch is refused by the database.
  const stale = new ExecutionStore(db.pool, epochA);
  await assert.rejects(
    stale.writeBatch([
      {
        record: {
          seq: 1,
          clientOrderId: coid("ha-1"),
          correlationId: "corr-ha-1",
          event: "late_write",
          fromStatus: "Filled",
          toStatus: "Filled",
          attempt: 1,
          detail: {},
          timeNs: 1n,
        },
        order: {
          clientOrderId: coid("ha-1"),
          signalId: "ha-1",
          correlationId: "corr-ha-1",
          symbol: "AAPL",
          side: "buy",
          qty: 5_000_000_000n,
          orderType: "market",
          limitPrice: null,
          timeInForce: "day",
          decisionPrice: 190_010_000_000n,
          status: "Filled",
          brokerOrderId: null,
          filledQty: 5_000_000_000n,
          filledNotional: 950_100_000_000n,
          attempts: 1,
          awaiting: "none",
          cancelRequested: false,
          createdNs: 1n,
          updatedNs: 1n,
        },
      },
    ]),
    (err) => isStaleEpochError(err),
  );
  await assert.rejects(
    db.pool.query("UPDATE orders SET status = 'cancelled', fencing_epoch = $1", [epochA]),
    (err) => isStaleEpochError(err),
  );
  const late = await db.pool.query(
    "SELECT 1 FROM order_audit_trail WHERE event_type = 'late_write'",
  );
  assert.equal(late.rowCount, 0);
});
