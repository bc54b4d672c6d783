/**
 * The execution-engine stage, started by the host as in production, against the broker
 * simulator over HTTP/WebSocket and a real migrated Postgres, fed over an InProcBus:
 * intent → order at the broker → fill published and stored, with the intent on disk before the
 * order was on the wire; duplicates, a 5xx on the POST, the kill switch, the slippage guard and
 * a restart with open orders.
 */
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OrderEvent, wallClockNs } from "../../services/core/messages/index.ts";
import { fromDecimal } from "../../services/core/money.ts";
import type { OrderSent } from "../../services/execution-engine/channels.ts";
import type { AuditRecord, Order } from "../../services/execution-engine/core/index.ts";
import { readJournal } from "../../services/execution-engine/journal.ts";
import { decodeEntry } from "../../services/execution-engine/journal-records.ts";
import { journalDir } from "../../services/execution-engine/recovery.ts";
import { type AuditWrite, ExecutionStore } from "../../services/execution-engine/store.ts";
import type { StageInstance } from "../../services/pipeline/host.ts";
import {
  auditOf,
  coid,
  currentEpoch,
  eventually,
  fillsOf,
  orderRow,
  publishIntent,
  publishKillSwitch,
  publishQuote,
  updatesOf,
} from "./execution-support.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

/**
 * auditEventsOnceStored: the order's audit events once `last` is among them (rows are written
 * behind the order path, so they reach Postgres a moment after the bus saw the update).
 */
async function auditEventsOnceStored(h: Harness, id: string, last: string): Promise<string[]> {
  await eventually(
    async () => (await auditOf(h.db.pool, id)).some((a) => a.event_type === last),
    `${last} row of ${id}`,
  );
  return (await auditOf(h.db.pool, id)).map((a) => a.event_type);
}

/** journaledEvents: the audit events of one order in this process's journal files, in order. */
function journaledEvents(clientOrderId: string): string[] {
  const dir = journalDir();
  const out: string[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(".journal"))
    .sort()) {
    for (const payload of readJournal(join(dir, name)).records) {
      const e = decodeEntry(payload);
      if (e.kind === "audit" && e.write.record.clientOrderId === clientOrderId) {
        out.push(e.write.record.event);
      }
    }
  }
  return out;
}

const SIM = { symbols: ["AAPL", "MSFT"], clock: "manual" as const, partialFillProbability: 0 };

/** startEngine starts the stage and waits for its recovery to finish. */
async function startEngine(h: Harness) {
  const instance = await h.start("execution-engine");
  await waitFor(() => instance.readiness.report().ready, "execution-engine ready");
  return instance;
}

function sentOrders(h: Harness, clientOrderId: string) {
  const s = h.sim.admin.state();
  return {
    orders: s.orders.filter((o) => o.client_order_id === clientOrderId),
    accepted: s.order_requests.filter(
      (r) => r.client_order_id === clientOrderId && r.status === 200,
    ),
    requests: s.order_requests.filter((r) => r.client_order_id === clientOrderId),
  };
}

const TICK_TO_ORDER = "tradepipe_tick_to_order_latency_seconds";

/** tickToOrder reads the tick → order histogram's sample count and sum (seconds). */
async function tickToOrder(h: Harness): Promise<{ count: number; sum: number }> {
  const m = (await h.metrics.registry.getMetricsAsJSON()).find((x) => x.name === TICK_TO_ORDER);
  const total = (series: string) =>
    (m?.values ?? [])
      .filter((v) => (v as { metricName?: string }).metricName === series)
      .reduce((sum, v) => sum + Number(v.value), 0);
  return { count: total(`${TICK_TO_ORDER}_count`), sum: total(`${TICK_TO_ORDER}_sum`) };
}

describe("execution-engine over the simulator and Postgres", () => {
  let h: Harness;
  let engine: StageInstance;
  const sentAt = new Map<string, number>();
  /** The journal's records of each order at the moment its first POST was handed over. */
  const journaledAtSend = new Map<string, string[]>();
  /** Orders whose bytes were on a dedicated order connection when postOrder returned. */
  const writtenInCall = new Set<string>();
  const written = new Set<string>();
  const onWritten = (m: unknown) => written.add((m as { clientOrderId: string }).clientOrderId);
  const onSent = (m: unknown) => {
    const e = m as OrderSent;
    if (written.has(e.clientOrderId)) writtenInCall.add(e.clientOrderId);
    if (!sentAt.has(e.clientOrderId)) {
      sentAt.set(e.clientOrderId, Date.now());
      journaledAtSend.set(e.clientOrderId, journaledEvents(e.clientOrderId));
    }
  };
  before(async () => {
    h = await startHarness({ sim: SIM });
    diagnostics.subscribe("tradepipe:execution:order-sent", onSent);
    diagnostics.subscribe("tradepipe.alpaca.order-written", onWritten);
    h.sim.admin.setQuote("AAPL", "190.00", "190.02");
    engine = await startEngine(h);
    publishQuote(h.bus, "AAPL", "190.00", "190.02");
  });
  after(async () => {
    diagnostics.unsubscribe("tradepipe:execution:order-sent", onSent);
    diagnostics.unsubscribe("tradepipe.alpaca.order-written", onWritten);
    await h.close();
  });

  test("an approved intent becomes one order, filled, published and stored after its intent row", async () => {
    const seen = h.record(["order.update/*"]);
    const latency0 = await tickToOrder(h);
    // As if market-data had read the tick's frame just now (the stages carry it to the intent).
    const originTimeNs = wallClockNs();
    const id = publishIntent(h.bus, { signalId: "sig-1", decisionPrice: "190.01", originTimeNs });
    await waitFor(
      () => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL),
      "fill update",
    );
    const bound = Number(wallClockNs() - originTimeNs) / 1e9;
    const latency = await tickToOrder(h);
    assert.equal(latency.count - latency0.count, 1, "one tick → order sample for the order");
    const sample = latency.sum - latency0.sum;
    assert.ok(sample > 0 && sample <= bound, `tick → order ${sample} s within (0, ${bound}]`);
    assert.deepEqual(
      updatesOf(seen, id).map((u) => u.header?.originTimeNs),
      updatesOf(seen, id).map(() => originTimeNs),
      "order updates carry the intent's origin time",
    );
    const fill = updatesOf(seen, id).find((u) => u.event === OrderEvent.FILL)!;
    assert.equal(fill.fillQty, "5");
    assert.equal(fill.fillPrice, "190.02");
    assert.equal(fill.filledQty, "5");
    assert.equal(fill.symbol, "AAPL");
    assert.notEqual(fill.brokerOrderId, "");

    const { orders, requests } = sentOrders(h, id);
    assert.equal(orders.length, 1);
    assert.equal(requests.length, 1);
    assert.equal(orders[0]!.status, "filled");
    // The market intent went out as a marketable limit: decision 190.01 + 50 bps, rounded down
    // to the cent; the simulator filled it at the ask, inside the limit.
    assert.deepEqual(
      [orders[0]!["type"], orders[0]!["limit_price"], orders[0]!["filled_avg_price"]],
      ["limit", "190.96", "190.02"],
    );

    await waitFor(() => sentAt.has(id), "order-sent diagnostic");
    // The POST went out on the dedicated order connection, written before postOrder returned
    // (in the run that journaled it), not one event-loop turn later through undici.
    assert.ok(writtenInCall.has(id), "order written on the dedicated connection inside the call");
    // Journal-ahead: the intent and send records were in the journal file when the POST left.
    assert.deepEqual(journaledAtSend.get(id), ["intent", "marketable_limit", "send"]);
    const epoch = await currentEpoch(h.db.pool);
    // Written behind the send: the rows reach Postgres shortly after.
    await eventually(
      async () => (await auditOf(h.db.pool, id)).some((a) => a.event_type === "fill"),
      "fill audit row committed",
    );
    const row = await orderRow(h.db.pool, id);
    assert.equal(row?.status, "filled");
    assert.equal(Number(row?.filled_qty), 5);
    assert.equal(Number(row?.fencing_epoch), epoch);
    assert.equal(row?.correlation_id, "corr-sig-1");
    const fills = await fillsOf(h.db.pool, id);
    assert.equal(fills.length, 1);
    assert.equal(
      fills[0]!.execution_id,
      h.sim.admin.state().fills.find((f) => f.client_order_id === id)!.execution_id,
    );

    const audit = await auditOf(h.db.pool, id);
    const events = audit.map((a) => a.event_type);
    const intentAt = events.indexOf("intent");
    const sendAt = events.indexOf("send");
    assert.ok(intentAt >= 0 && sendAt > intentAt, `intent before send: ${events.join(",")}`);
    assert.ok(events.indexOf("fill") > sendAt, `fill after send: ${events.join(",")}`);
    assert.ok(audit.every((a) => a.correlation_id === "corr-sig-1"));
    assert.ok(audit.every((a) => Number(a.fencing_epoch) === epoch));
  });

  test("a duplicate intent (same client_order_id) sends nothing again", async () => {
    const id = coid("sig-1");
    const before = (await auditOf(h.db.pool, id)).length;
    publishIntent(h.bus, { signalId: "sig-1", decisionPrice: "190.01" });
    await eventually(
      async () => (await auditOf(h.db.pool, id)).some((a) => a.event_type === "duplicate_intent"),
      "duplicate_intent audited",
    );
    const audit = await auditOf(h.db.pool, id);
    assert.ok(audit.length > before);
    assert.ok(audit.some((a) => a.event_type === "duplicate_intent"));
    assert.equal(sentOrders(h, id).requests.length, 1);
    assert.equal(
      audit.filter((a) => a.event_type === "send" || a.event_type === "resend").length,
      1,
    );
  });

  test("a 5xx on the POST is resolved by lookup and retried with the same id, never duplicated", async () => {
    const seen = h.record(["order.update/*"]);
    h.sim.admin.setFaults({ fail5xxNext: 1 });
    const latency0 = await tickToOrder(h);
    const id = publishIntent(h.bus, {
      signalId: "sig-2",
      decisionPrice: "190.01",
      originTimeNs: wallClockNs(),
    });
    await waitFor(
      () => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL),
      "fill after the retry",
    );
    const latency = await tickToOrder(h);
    assert.equal(latency.count - latency0.count, 1, "the first send is measured, the resend not");
    const { orders, accepted } = sentOrders(h, id);
    assert.equal(orders.length, 1);
    assert.equal(accepted.length, 1);
    const events = await auditEventsOnceStored(h, id, "fill");
    for (const e of ["send", "send_ambiguous", "not_at_broker", "retry_scheduled", "resend"]) {
      assert.ok(events.includes(e), `${e} in ${events.join(",")}`);
    }
    assert.ok(events.indexOf("send_ambiguous") < events.indexOf("not_at_broker"));
    assert.ok(events.indexOf("not_at_broker") < events.indexOf("resend"));
    const fills = updatesOf(seen, id).filter((u) => u.fillQty !== "");
    assert.equal(fills.length, 1);
    assert.equal((await fillsOf(h.db.pool, id)).length, 1);
  });

  test("a POST that times out but reached the broker is found by lookup and never doubled", async () => {
    const seen = h.record(["order.update/*"]);
    // Every answer comes 5.3 s late: past the client's 5 s order deadline (the POST is
    // ambiguous) but within the 10 s of a lookup, which then finds the order.
    h.sim.admin.setFaults({ latencyMs: 5_300 });
    const id = publishIntent(h.bus, { signalId: "sig-slow", decisionPrice: "190.01" });
    try {
      await eventually(
        async () => (await auditOf(h.db.pool, id)).some((a) => a.event_type === "resolved"),
        "the lookup after the timeout",
        20_000,
      );
    } finally {
      h.sim.admin.clearFaults();
    }
    await waitFor(() => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL), "fill");
    const { orders, accepted } = sentOrders(h, id);
    assert.equal(orders.length, 1);
    assert.equal(accepted.length, 1);
    const events = await auditEventsOnceStored(h, id, "fill");
    assert.ok(events.indexOf("send_ambiguous") > events.indexOf("send"), events.join(","));
    assert.ok(!events.includes("resend"), events.join(","));
    assert.equal(updatesOf(seen, id).filter((u) => u.fillQty !== "").length, 1);
    assert.equal((await fillsOf(h.db.pool, id)).length, 1);
  });

  test("an intent the database could not store is refused at intake; nothing is sent and the engine goes on", async () => {
    const seen = h.record(["order.update/*"]);
    // 10^30 shares overflows numeric(38, 9): the intent's audit batch is refused.
    const huge = publishIntent(h.bus, {
      signalId: "sig-huge",
      qty: `1${"0".repeat(30)}`,
      decisionPrice: "190.01",
    });
    const next = publishIntent(h.bus, { signalId: "sig-after-huge", decisionPrice: "190.01" });
    await waitFor(
      () => updatesOf(seen, next).some((u) => u.event === OrderEvent.FILL),
      "next fill",
    );
    assert.equal(sentOrders(h, huge).requests.length, 0);
    assert.equal(updatesOf(seen, huge).length, 0);
    assert.equal((await auditOf(h.db.pool, huge)).length, 0);
    // The order would be on the wire before its rows reach Postgres: refused before the core.
    const refused = await h.metrics.registry
      .getSingleMetric("tradepipe_order_rejects_total")
      ?.get();
    assert.equal(refused?.values.find((v) => v.labels.reason === "invalid_qty")?.value, 1);
  });

  test("the slippage guard refuses a buy whose ask is too far above the decision price", async () => {
    const seen = h.record(["order.update/*"]);
    const id = publishIntent(h.bus, { signalId: "sig-slip", decisionPrice: "180.00" });
    await waitFor(() => updatesOf(seen, id).length > 0, "rejection");
    const [u] = updatesOf(seen, id);
    assert.equal(u!.event, OrderEvent.REJECTED);
    assert.equal(u!.reason, "slippage");
    assert.equal(sentOrders(h, id).requests.length, 0);
    await eventually(async () => (await orderRow(h.db.pool, id))?.status === "rejected", "row");
    const row = await orderRow(h.db.pool, id);
    assert.equal(row?.status, "rejected");
    assert.equal(row?.reject_reason, "slippage");
  });

  test("the kill switch cancels open orders at the broker and refuses new ones", async () => {
    const seen = h.record(["order.update/*"]);
    const open = publishIntent(h.bus, {
      signalId: "sig-far",
      limitPrice: "150.00",
      decisionPrice: "190.01",
    });
    await waitFor(
      () => updatesOf(seen, open).some((u) => u.event === OrderEvent.NEW),
      "open order",
    );
    assert.equal(sentOrders(h, open).orders[0]!.status, "new");

    publishKillSwitch(h.bus, true);
    await waitFor(
      () => updatesOf(seen, open).some((u) => u.event === OrderEvent.CANCELED),
      "cancel update",
    );
    assert.equal(sentOrders(h, open).orders[0]!.status, "canceled");
    await waitFor(() => engine.lastReport().killSwitch === true, "killSwitch reported");
    const halted = await h.metrics.registry.getSingleMetric("tradepipe_execution_halted")?.get();
    assert.equal(halted?.values[0]?.value, 1);

    const refused = publishIntent(h.bus, { signalId: "sig-after-kill", decisionPrice: "190.01" });
    await waitFor(() => updatesOf(seen, refused).length > 0, "refusal");
    assert.equal(updatesOf(seen, refused)[0]!.reason, "kill_switch");
    assert.equal(sentOrders(h, refused).requests.length, 0);
    await eventually(async () => (await orderRow(h.db.pool, open))?.status === "cancelled", "row");

    publishKillSwitch(h.bus, false);
    await waitFor(() => engine.lastReport().killSwitch === false, "kill switch released");
  });

  test("cancel-all (tp_request_cancel_all) cancels every open order at the broker, once, and trading goes on", async () => {
    const seen = h.record(["order.update/*"]);
    const far = ["sig-far-a", "sig-far-b"].map((signalId, i) =>
      publishIntent(h.bus, { signalId, limitPrice: `15${i}.00`, decisionPrice: "190.01" }),
    );
    await waitFor(
      () => far.every((id) => updatesOf(seen, id).some((u) => u.event === OrderEvent.NEW)),
      "two open orders",
    );
    const openAtBroker = () =>
      h.sim.admin
        .state()
        .orders.filter((o) => ["new", "accepted", "partially_filled"].includes(String(o.status)));
    assert.ok(openAtBroker().length >= 2);

    const { rows } = await h.db.pool.query(
      "SELECT id FROM tp_request_cancel_all('stale quotes', 'dashboard:olga')",
    );
    await waitFor(
      () => far.every((id) => updatesOf(seen, id).some((u) => u.event === OrderEvent.CANCELED)),
      "both cancelled",
    );
    assert.equal(openAtBroker().length, 0, "no open order left at the broker");
    await eventually(async () => {
      const r = await h.db.pool.query("SELECT * FROM cancel_all_requests WHERE id = $1", [
        rows[0].id,
      ]);
      return r.rows[0].done_at !== null && r.rows[0].cancelled_count >= 2;
    }, "the request stamped done");
    // The audit rows are written behind the order path: wait for them, then read why.
    await eventually(
      async () =>
        (await auditOf(h.db.pool, far[0]!)).some((a) => JSON.stringify(a).includes("cancel_all")),
      "the audit trail says why it was cancelled",
    );

    // Not a halt: the next order is sent and fills.
    const next = publishIntent(h.bus, {
      signalId: "sig-after-cancel-all",
      decisionPrice: "190.01",
    });
    await waitFor(
      () => updatesOf(seen, next).some((u) => u.event === OrderEvent.FILL),
      "next fill",
    );
    assert.equal(engine.lastReport().killSwitch, false);
  });
});

describe("execution-engine restart", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ sim: SIM });
    h.sim.admin.setQuote("MSFT", "410.00", "410.02");
  });
  after(() => h.close());

  test("a new instance resolves the orders left open, applies what happened meanwhile and goes on", async () => {
    const first = await startEngine(h);
    publishQuote(h.bus, "MSFT", "410.00", "410.02");
    const seen = h.record(["order.update/*"]);
    const near = publishIntent(h.bus, {
      signalId: "r-near",
      symbol: "MSFT",
      qty: "3",
      limitPrice: "400.00",
      decisionPrice: "410.01",
    });
    const far = publishIntent(h.bus, {
      signalId: "r-far",
      symbol: "MSFT",
      qty: "2",
      limitPrice: "380.00",
      decisionPrice: "410.01",
    });
    await waitFor(
      () => [near, far].every((id) => updatesOf(seen, id).some((u) => u.event === OrderEvent.NEW)),
      "both orders open",
    );
    const epochBefore = await currentEpoch(h.db.pool);
    await first.stop();

    // While no engine runs, one order fills at the broker.
    h.sim.admin.setQuote("MSFT", "398.00", "399.00");
    assert.equal(sentOrders(h, near).orders[0]!.status, "filled");

    const second = await startEngine(h);
    assert.ok((await currentEpoch(h.db.pool)) > epochBefore);
    await waitFor(
      () => updatesOf(seen, near).some((u) => u.event === OrderEvent.FILL),
      "fill learnt by lookup",
    );
    const fill = updatesOf(seen, near).find((u) => u.event === OrderEvent.FILL)!;
    assert.equal(fill.fillQty, "3");
    assert.equal(fill.fillPrice, "399");
    const nearEvents = await auditEventsOnceStored(h, near, "resolved");
    assert.ok(nearEvents.includes("resolve_after_restart"), nearEvents.join(","));
    assert.equal(sentOrders(h, near).requests.length, 1);
    assert.equal((await fillsOf(h.db.pool, near)).length, 1);

    // The other order is still open and the new instance follows it on the stream.
    h.sim.admin.setQuote("MSFT", "378.00", "379.00");
    await waitFor(
      () => updatesOf(seen, far).some((u) => u.event === OrderEvent.FILL),
      "fill on the stream",
    );
    assert.equal(sentOrders(h, far).requests.length, 1);
    await eventually(async () => (await orderRow(h.db.pool, far))?.status === "filled", "row");
    await auditEventsOnceStored(h, far, "fill");
    assert.equal((await fillsOf(h.db.pool, far)).length, 1);
    assert.equal(second.readiness.report().ready, true);
    await second.stop();
  });

  test("a kill switch persisted by the risk manager is honoured by an instance that starts", async () => {
    await h.db.pool.query("SELECT tp_set_kill_switch(true, 'test', 'test')");
    const third = await startEngine(h);
    assert.equal(third.lastReport().killSwitch, true);
    assert.equal(third.lastReport().halted, true);
    const seen = h.record(["order.update/*"]);
    publishQuote(h.bus, "MSFT", "378.00", "379.00");
    const id = publishIntent(h.bus, {
      signalId: "r-killed",
      symbol: "MSFT",
      decisionPrice: "378.50",
    });
    await waitFor(() => updatesOf(seen, id).length > 0, "refusal");
    assert.equal(updatesOf(seen, id)[0]!.reason, "kill_switch");
    assert.equal(sentOrders(h, id).requests.length, 0);
  });
});

describe("execution-engine after a crash between the send's audit rows and the broker's answer", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ sim: SIM });
    h.sim.admin.setQuote("AAPL", "190.00", "190.02");
  });
  after(() => h.close());

  test("an order whose POST never left is sent once; one whose POST landed is found, not resent", async () => {
    // A first instance leads once and stops, leaving epoch 1 current and no leader.
    await (await startEngine(h)).stop();
    const epoch = await currentEpoch(h.db.pool);
    const lost = coid("crash-lost");
    const landed = coid("crash-landed");
    // What a crash right after committing `intent` + `send` leaves behind.
    await new ExecutionStore(h.db.pool, epoch).writeBatch([
      ...committedSend("crash-lost"),
      ...committedSend("crash-landed"),
    ]);
    // The second order's POST reached the broker before the crash.
    const posted = await fetch(`${h.sim.tradingUrl}/v2/orders`, {
      method: "POST",
      headers: {
        "APCA-API-KEY-ID": h.sim.keys.keyId,
        "APCA-API-SECRET-KEY": h.sim.keys.secretKey,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        symbol: "AAPL",
        side: "buy",
        type: "market",
        time_in_force: "day",
        qty: "5",
        client_order_id: landed,
      }),
    });
    assert.equal(posted.status, 200);

    const seen = h.record(["order.update/*"]);
    await startEngine(h);
    await waitFor(
      () =>
        [lost, landed].every((id) => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL)),
      "both orders filled",
    );
    assert.equal(sentOrders(h, lost).orders.length, 1);
    assert.equal(sentOrders(h, landed).orders.length, 1);
    assert.equal(sentOrders(h, landed).requests.length, 1, "the landed order is not posted again");
    const lostEvents = await auditEventsOnceStored(h, lost, "fill");
    for (const e of ["resolve_after_restart", "not_at_broker", "resend"]) {
      assert.ok(lostEvents.includes(e), `${e} in ${lostEvents.join(",")}`);
    }
    const landedEvents = await auditEventsOnceStored(h, landed, "resolved");
    assert.ok(landedEvents.includes("resolve_after_restart"), landedEvents.join(","));
    assert.ok(!landedEvents.includes("resend"), landedEvents.join(","));
    for (const id of [lost, landed]) {
      await eventually(async () => (await orderRow(h.db.pool, id))?.status === "filled", id);
      assert.equal((await fillsOf(h.db.pool, id)).length, 1);
    }
    // The landed order's fill was learnt from a lookup: its row is the broker's execution, read
    // from the FILL activities, not one synthesized from the cumulative quantity.
    const executions = h.sim.admin.state().fills.filter((f) => f.client_order_id === landed);
    const exact = (id: string, qty: string, price: string) => [
      id,
      fromDecimal(qty),
      fromDecimal(price),
    ];
    assert.deepEqual(
      (await fillsOf(h.db.pool, landed)).map((f) => exact(f.execution_id, f.qty, f.price)),
      executions.map((e) => exact(e.execution_id, e.qty, e.price)),
    );
  });
});

const INTENT_DETAIL: Readonly<Record<string, string>> = { decisionPrice: "190.01" };
const SEND_DETAIL: Readonly<Record<string, string>> = { attempt: "1" };

/** committedSend: the audit rows and order row of an order whose send was committed. */
function committedSend(signalId: string): AuditWrite[] {
  const clientOrderId = coid(signalId);
  const timeNs = BigInt(Date.now()) * 1_000_000n;
  const order: Order = {
    clientOrderId,
    signalId,
    correlationId: `corr-${signalId}`,
    symbol: "AAPL",
    side: "buy",
    qty: fromDecimal("5"),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: fromDecimal("190.01"),
    status: "Submitted",
    brokerOrderId: null,
    filledQty: 0n,
    filledNotional: 0n,
    attempts: 1,
    awaiting: "send",
    cancelRequested: false,
    createdNs: timeNs,
    updatedNs: timeNs,
  };
  const record = (
    seq: number,
    event: string,
    from: Order["status"] | null,
    to: Order["status"],
  ): AuditRecord => ({
    seq,
    clientOrderId,
    correlationId: order.correlationId,
    event,
    fromStatus: from,
    toStatus: to,
    attempt: event === "send" ? 1 : 0,
    detail: event === "intent" ? INTENT_DETAIL : SEND_DETAIL,
    timeNs,
  });
  return [
    { record: record(1, "intent", null, "Created"), order },
    { record: record(2, "send", "Created", "Submitted"), order },
  ];
}
