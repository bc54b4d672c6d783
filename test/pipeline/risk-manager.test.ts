/**
 * The risk-manager stage with real parts (Postgres, InProcBus, the simulator as its broker,
 * started by the host as in production): no order before the tracker says positions are
 * reconciled; a signal within the limits is approved with the deterministic client_order_id;
 * one over each of the six limits is refused with its reason on the bus and counted; the kill
 * switch engages and releases through SQL (tp_set_kill_switch + NOTIFY), over the control socket
 * (never the health port, never a browser-style request) and by the spec, is announced to the
 * execution engine, and survives a restart; while the spec says engaged, a release is refused.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { main as killSwitchCommand } from "../../bin/commands/kill-switch.ts";
import { decodeMessage, publishMessage } from "../../services/core/bus/typed.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import { callControl } from "../../services/core/control/client.ts";
import { startControlServer } from "../../services/core/control/server.ts";
import { startHealthServer } from "../../services/core/health/index.ts";
import {
  ControlCommand,
  ControlSchema,
  IntentDecision,
  newHeader,
  OrderEvent,
  type OrderIntent,
  OrderIntentSchema,
  OrderUpdateSchema,
  PositionUpdateSchema,
  RiskStateSchema,
  SignalAction,
  TradingSignalSchema,
} from "../../services/core/messages/index.ts";
import { clientOrderIdFor } from "../../services/execution-engine/core/client-order-id.ts";
import { pipelineOrderIdScope } from "../../services/execution-engine/order-id-scope.ts";
import { decodeIntent, emptyIntentFields } from "../../services/risk-manager/wire.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";
import {
  metricValue,
  nowNs,
  placeSimOrder,
  publishFill,
  publishPortfolio,
} from "./trading-support.ts";

let signalNo = 0;

/** callRaw POSTs `body` to /kill-switch over the socket with exactly these headers. */
function callRaw(
  socketPath: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: "/kill-switch", method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * decide publishes a signal and returns the OrderIntent the risk-manager answers with, which
 * must carry the signal's origin time (when market-data read the tick's frame).
 */
async function decide(
  h: Harness,
  intents: BusMessage[],
  symbol: string,
  action: "buy" | "sell",
  price: string,
): Promise<OrderIntent> {
  const signalId = `${symbol}-t${++signalNo}`;
  const originTimeNs = 1_767_000_000_000_000_000n + BigInt(signalNo) * 1_001n;
  publishMessage(
    h.bus,
    `signal/${symbol}`,
    TradingSignalSchema,
    create(TradingSignalSchema, {
      header: newHeader("signal-bridge", nowNs(), { originTimeNs }),
      signalId,
      symbol,
      action: action === "buy" ? SignalAction.BUY : SignalAction.SELL,
      confidence: 0.9,
      referencePrice: price,
    }),
  );
  let found: OrderIntent | undefined;
  await waitFor(() => {
    for (const m of intents) {
      const i = decodeMessage(m, OrderIntentSchema);
      if (i.signalId === signalId) found = i;
      // In-process the execution engine reads the risk-manager's own copy (BusMessage.value):
      // it must say exactly what the bytes say.
      assert.deepEqual(m.value, decodeIntent(m.payload, emptyIntentFields()), m.topic);
    }
    return found !== undefined;
  }, `the decision on ${signalId}`);
  assert.equal(found!.header?.originTimeNs, originTimeNs, `${signalId}: origin time carried`);
  return found!;
}

const reasonOf = (i: OrderIntent) =>
  i.decision === IntentDecision.APPROVED ? "approved" : i.rejectReason.split(":")[0];

test("signals within the limits are approved; one over each limit is refused with its reason", async () => {
  const h = await startHarness({
    sim: { symbols: { AAPL: 100, MSFT: 600 }, clock: "manual" },
    spec: {
      symbols: ["AAPL", "MSFT", "GOOGL", "AMZN"],
      strategy: { orderQty: 10 },
      risk: {
        maxPositionShares: 25,
        maxNotionalPerSymbol: "5000",
        maxOpenPositions: 2,
        maxDailyLoss: "1000",
        maxVar99: "300",
        maxSectorConcentration: 0.5,
        circuitBreaker: { failureThreshold: 100, windowSeconds: 60, cooldownSeconds: 300 },
      },
    },
  });
  try {
    const intents = h.record(["order.intent/*"]);
    const risk = await h.start("risk-manager");

    // Nothing passes before the tracker's first reconciliation.
    const early = await decide(h, intents, "AAPL", "buy", "100");
    assert.equal(reasonOf(early), "not_reconciled");
    assert.equal(early.rejectCode, "TP_ERR_RISK_DENIED");

    publishPortfolio(h, { canTrade: true, equity: "3000" });
    await new Promise((r) => setTimeout(r, 20));
    // Within every limit: AAPL (Information Technology) and GOOGL (Communication Services).
    const aapl = await decide(h, intents, "AAPL", "buy", "100");
    assert.equal(reasonOf(aapl), "approved");
    const scope = pipelineOrderIdScope(h.pipeline, h.sim.keys.keyId);
    assert.equal(aapl.clientOrderId, clientOrderIdFor(scope, aapl.signalId));
    assert.deepEqual(
      { qty: aapl.qty, price: aapl.decisionPrice, symbol: aapl.symbol, code: aapl.rejectCode },
      { qty: "10", price: "100", symbol: "AAPL", code: "" },
    );
    const googl = await decide(h, intents, "GOOGL", "buy", "100");
    assert.equal(reasonOf(googl), "approved");

    // 10 × 600 = 6000 > 5000 per symbol.
    assert.equal(
      reasonOf(await decide(h, intents, "MSFT", "buy", "600")),
      "max_notional_per_symbol",
    );
    // A third symbol with a position (AAPL and GOOGL are working) > 2.
    assert.equal(reasonOf(await decide(h, intents, "AMZN", "buy", "100")), "max_open_positions");
    // Information Technology 2000 > 0.5 × max(gross 3000, equity 3000) = 1500.
    assert.equal(
      reasonOf(await decide(h, intents, "AAPL", "buy", "100")),
      "max_sector_concentration",
    );
    // VaR (fallback 2.326 × 3% × exposure): GOOGL 20 × 250 → 348.9 + AAPL 69.78 > 300.
    assert.equal(reasonOf(await decide(h, intents, "GOOGL", "buy", "250")), "max_var99");
    // Today's loss reaches 1000.
    publishPortfolio(h, { canTrade: true, equity: "3000", realizedPnl: "-1000" });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "max_daily_loss");
    // The tracker reports GOOGL 20 filled: with the working 10 and this 10, 40 > 25 shares.
    publishMessage(
      h.bus,
      "position.update/GOOGL",
      PositionUpdateSchema,
      create(PositionUpdateSchema, {
        header: newHeader("position-tracker", nowNs()),
        symbol: "GOOGL",
        qty: "20",
        marketPrice: "100",
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    const big = await decide(h, intents, "GOOGL", "buy", "100");
    assert.equal(reasonOf(big), "max_position_shares");
    assert.match(big.rejectReason, /^max_position_shares: .+/);
    // The working GOOGL buy fills: nothing is left working against the sell below.
    publishMessage(
      h.bus,
      "order.update/GOOGL",
      OrderUpdateSchema,
      create(OrderUpdateSchema, {
        header: newHeader("execution-engine", nowNs()),
        clientOrderId: googl.clientOrderId,
        symbol: "GOOGL",
        event: OrderEvent.FILL,
        qty: "10",
        filledQty: "10",
      }),
    );

    for (const reason of [
      "not_reconciled",
      "max_position_shares",
      "max_notional_per_symbol",
      "max_open_positions",
      "max_daily_loss",
      "max_var99",
      "max_sector_concentration",
    ]) {
      assert.equal(await metricValue(h, "tradepipe_risk_rejects_total", { reason }), 1, reason);
    }
    await waitFor(() => risk.lastReport().rejects === 7, "the status report counts 7 refusals");
    assert.equal(risk.lastReport().circuitBreaker, "closed");
    assert.equal(await metricValue(h, "tradepipe_risk_circuit_breaker_state"), 0);

    // The tracker's drawdown alert halts new risk; reducing orders still pass.
    publishPortfolio(h, { canTrade: true, equity: "3000" });
    publishMessage(
      h.bus,
      "control",
      ControlSchema,
      create(ControlSchema, {
        header: newHeader("position-tracker", nowNs()),
        command: ControlCommand.DRAWDOWN_ALERT,
        requestedBy: "position-tracker",
        reason: "drawdown 0.06",
        drawdown: "0.06",
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "halted");
    assert.equal(reasonOf(await decide(h, intents, "GOOGL", "sell", "100")), "approved");
    const states = h.record(["risk.state"]);
    await waitFor(() => states.length > 0, "risk.state");
    assert.equal(decodeMessage(states.at(-1)!, RiskStateSchema).halted, true);
    // The VaR it publishes is the one it records for the dashboard (value_at_risk_99).
    const published = Number(decodeMessage(states.at(-1)!, RiskStateSchema).valueAtRisk);
    assert.ok(published > 0, `VaR of a book with positions: ${published}`);
    let recorded: number | null = null;
    for (let i = 0; i < 100 && recorded !== published; i++) {
      const r = await h.db.pool.query("SELECT value_at_risk_99::float8 AS v FROM risk_state");
      recorded = r.rows[0].v;
      if (recorded !== published) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(recorded, published, "value_at_risk_99 = the published VaR");

    // The halt is in risk_state: a restarted risk-manager still refuses new risk.
    await risk.stop();
    const again = await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true, equity: "3000" });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "MSFT", "buy", "100")), "halted");
    await waitFor(() => again.lastReport().rejects === 9, "refusal counters kept over the restart");
  } finally {
    await h.close();
  }
});

test("the kill switch: SQL, the control socket and the command line; announced to the execution engine; kept over a restart", async () => {
  const h = await startHarness({ sim: { symbols: { AAPL: 100 }, clock: "manual" } });
  const server = await startHealthServer({ routes: h.routes });
  const runDir = await mkdtemp(join(tmpdir(), "tp-rm-"));
  const socketPath = join(runDir, "risk-manager.control.sock");
  const control = await startControlServer({ routes: h.controlRoutes, socketPath });
  try {
    const intents = h.record(["order.intent/*"]);
    const controls = h.record(["control"]);
    const states = h.record(["risk.state"]);
    const killSwitchControls = () =>
      controls
        .map((m) => decodeMessage(m, ControlSchema))
        .filter((c) => c.header?.source === "risk-manager")
        .map((c) => c.command);
    let risk = await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");

    // SQL (what `tradepipe kill-switch on` runs): the NOTIFY reaches the stage at once.
    await h.db.pool.query("SELECT tp_set_kill_switch(true, 'sql test', 'cli:test')");
    await waitFor(
      () => killSwitchControls().includes(ControlCommand.KILL_SWITCH_ON),
      "KILL_SWITCH_ON for the execution engine",
    );
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "sell", "100")), "kill_switch");
    assert.equal(risk.lastReport().killSwitch, true);
    assert.equal(decodeMessage(states.at(-1)!, RiskStateSchema).killSwitch, true);

    // A restart keeps it engaged and announces it again.
    await risk.stop();
    const before = killSwitchControls().length;
    risk = await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true });
    await waitFor(() => killSwitchControls().length > before, "KILL_SWITCH_ON after the restart");
    assert.equal(killSwitchControls().at(-1), ControlCommand.KILL_SWITCH_ON);
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");

    // The health/metrics port is read-only: the release that used to work there is refused.
    const scrapePost = await fetch(`${server.url}/kill-switch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"engaged": false, "requestedBy": "attacker"}',
    });
    assert.equal(scrapePost.status, 405);
    await scrapePost.body?.cancel();
    // Neither is a browser-style request on the control socket: text/plain, a foreign Origin.
    const plain = await callRaw(socketPath, '{"engaged": false}', { "content-type": "text/plain" });
    assert.equal(plain.status, 415);
    const foreign = await callRaw(socketPath, '{"engaged": false}', {
      "content-type": "application/json",
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");

    // The control socket: a bad body is refused with the field named; a good one releases it,
    // recorded as made by the socket's user whatever the body claims.
    const post = (body: unknown) => callControl({ socketPath }, "POST", "/kill-switch", body);
    const bad = await post({ engaged: "yes" });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /body\.engaged/);
    const off = await post({ engaged: false, reason: "http test", requestedBy: "someone-else" });
    assert.equal(off.status, 200);
    assert.equal(off.body.engaged, false);
    assert.equal(killSwitchControls().at(-1), ControlCommand.KILL_SWITCH_OFF);
    const row = await h.db.pool.query(
      "SELECT kill_switch_engaged, kill_switch_reason, kill_switch_changed_by FROM risk_state",
    );
    assert.deepEqual(row.rows[0], {
      kill_switch_engaged: false,
      kill_switch_reason: "http test",
      kill_switch_changed_by: `unix:${userInfo().username}`,
    });
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");
    const on = await post({ engaged: true, reason: "http on" });
    assert.equal(on.status, 200);
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");
    const status = await fetch(`${server.url}/kill-switch`).then((r) => r.json());
    assert.equal((status as { engaged: boolean }).engaged, true);

    // The command line: `tradepipe kill-switch off` against this database.
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = h.db.url;
    try {
      assert.equal(await killSwitchCommand(["off", "--reason", "cli test"]), 0);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
    await waitFor(
      () => killSwitchControls().at(-1) === ControlCommand.KILL_SWITCH_OFF,
      "KILL_SWITCH_OFF after the command",
    );
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");

    // The command line over the control socket (what it does against a live `tradepipe run`).
    assert.equal(
      await killSwitchCommand(["on", "--socket", socketPath, "--reason", "cli socket"]),
      0,
    );
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");
    const bySocket = await h.db.pool.query("SELECT kill_switch_changed_by FROM risk_state");
    assert.equal(bySocket.rows[0].kill_switch_changed_by, `unix:${userInfo().username}`);
  } finally {
    await control.close();
    await server.close();
    await h.close();
    await rm(runDir, { recursive: true, force: true });
  }
});

/** decideUntil asks for AAPL buys until one gets `reason` (a NOTIFY takes a moment to land). */
async function decideUntil(h: Harness, intents: BusMessage[], reason: string): Promise<void> {
  let last = "";
  for (let i = 0; i < 100; i++) {
    last = reasonOf(await decide(h, intents, "AAPL", "buy", "100"));
    if (last === reason) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`a buy never got "${reason}" (last: ${last})`);
}

test("pause new orders: applied at once from tp_set_pause, no kill switch, kept over a restart, resumed", async () => {
  const h = await startHarness({ sim: { symbols: { AAPL: 100 }, clock: "manual" } });
  try {
    const intents = h.record(["order.intent/*"]);
    const controls = h.record(["control"]);
    let risk = await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");

    await h.db.pool.query("SELECT tp_set_pause(true, 'news at noon', 'dashboard:olga')");
    await decideUntil(h, intents, "halted");
    const refused = await decide(h, intents, "AAPL", "buy", "100");
    assert.match(refused.rejectReason, /paused by dashboard:olga: news at noon/);
    assert.equal(
      controls
        .map((m) => decodeMessage(m, ControlSchema))
        .filter((c) => c.command === ControlCommand.KILL_SWITCH_ON).length,
      0,
      "a pause is no kill switch: open orders are not cancelled",
    );

    // A restart reads the pause back.
    await risk.stop();
    risk = await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "halted");

    await h.db.pool.query("SELECT tp_set_pause(false, NULL, 'dashboard:olga')");
    await decideUntil(h, intents, "approved");
  } finally {
    await h.close();
  }
});

test("spec.killSwitch engages the kill switch at start, in the database", async () => {
  const h = await startHarness({
    sim: { symbols: { AAPL: 100 }, clock: "manual" },
    spec: { killSwitch: true },
  });
  try {
    const intents = h.record(["order.intent/*"]);
    const controls = h.record(["control"]);
    const risk = await h.start("risk-manager");
    const row = await h.db.pool.query(
      "SELECT kill_switch_engaged, kill_switch_changed_by, fencing_epoch::int FROM risk_state",
    );
    assert.equal(row.rows[0].kill_switch_engaged, true);
    assert.equal(row.rows[0].kill_switch_changed_by, "spec");
    publishPortfolio(h, { canTrade: true });
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");
    assert.ok(
      controls.some(
        (m) => decodeMessage(m, ControlSchema).command === ControlCommand.KILL_SWITCH_ON,
      ),
    );
    assert.equal(risk.lastReport().killSwitch, true);
    // The stage's own writes of risk_state carry its epoch.
    const epoch = await h.db.pool.query(
      "SELECT epoch::int FROM stage_leadership WHERE stage = 'risk-manager'",
    );
    const persisted = async () =>
      (await h.db.pool.query("SELECT fencing_epoch::int, core_state FROM risk_state")).rows[0];
    let last = await persisted();
    for (let i = 0; i < 100 && last.core_state === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      last = await persisted();
    }
    assert.equal(last.fencing_epoch, epoch.rows[0].epoch);
    assert.equal(last.core_state.version, 1);
    assert.equal(last.core_state.killSwitch.engaged, true);
  } finally {
    await h.close();
  }
});

test("spec.killSwitch: a release is refused while the spec says true, and a spec changed to true engages it at once", async () => {
  const h = await startHarness({
    sim: { symbols: { AAPL: 100 }, clock: "manual" },
    spec: { killSwitch: true },
  });
  const runDir = await mkdtemp(join(tmpdir(), "tp-rm-"));
  const socketPath = join(runDir, "risk-manager.control.sock");
  const control = await startControlServer({ routes: h.controlRoutes, socketPath });
  try {
    const intents = h.record(["order.intent/*"]);
    await h.start("risk-manager");
    publishPortfolio(h, { canTrade: true });
    const release = await callControl({ socketPath }, "POST", "/kill-switch", { engaged: false });
    assert.equal(release.status, 409);
    assert.match(String(release.body.error), /spec\.killSwitch is true/);
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");

    // The spec goes to false: now a release works; back to true: engaged again without a restart.
    h.changeSpec({ killSwitch: false });
    const ok = await callControl({ socketPath }, "POST", "/kill-switch", { engaged: false });
    assert.equal(ok.status, 200);
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");
    h.changeSpec({ killSwitch: true });
    const engaged = async () =>
      (await h.db.pool.query("SELECT kill_switch_engaged, kill_switch_changed_by FROM risk_state"))
        .rows[0];
    for (let i = 0; i < 100 && !(await engaged()).kill_switch_engaged; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await engaged(), {
      kill_switch_engaged: true,
      kill_switch_changed_by: "spec",
    });
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "kill_switch");
  } finally {
    await control.close();
    await h.close();
    await rm(runDir, { recursive: true, force: true });
  }
});

test("no order passes until the position tracker's first reconciliation passes", async () => {
  const h = await startHarness({
    sim: { symbols: { AAPL: 100, MSFT: 400 }, clock: "manual", partialFillProbability: 0 },
    spec: { positions: { reconcileIntervalSeconds: 1 } },
  });
  try {
    const intents = h.record(["order.intent/*"]);
    // The broker holds 3 MSFT the tracker has not seen a fill for: the first reconciliation breaks.
    await placeSimOrder(h, "MSFT", "buy", "3");
    const simFills = () =>
      (h.sim.admin.state() as { fills: Array<{ symbol: string; price: string }> }).fills;
    await waitFor(() => simFills().length > 0, "the simulator's fill");
    const tracker = await h.start("position-tracker");
    await h.start("risk-manager");
    await waitFor(
      () => tracker.readiness.report().checks.reconciled?.reason?.includes("MSFT") === true,
      "the break",
    );
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "not_reconciled");
    // The fill arrives; the tracker's re-check passes and its PortfolioUpdate opens the gate.
    publishFill(h, {
      clientOrderId: "late-1",
      symbol: "MSFT",
      side: "buy",
      qty: "3",
      fillQty: "3",
      fillPrice: simFills()[0]!.price,
      filledQty: "3",
      executionId: "late-1-1",
    });
    await waitFor(() => tracker.readiness.report().ready, "reconciled", 15_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reasonOf(await decide(h, intents, "AAPL", "buy", "100")), "approved");
  } finally {
    await h.close();
  }
});
