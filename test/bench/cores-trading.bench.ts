/**
 * Benchmarks of the risk-manager, execution-engine and position-tracker cores, each beside a
 * bare baseline measured in the same run:
 *   - risk: the six pre-trade checks (runChecks) on a 5-symbol book with 252 days of returns,
 *     and a whole decision (stepRisk of OrderProposed), vs six bare bigint comparisons and vs
 *     the bare float dot products historical VaR cannot avoid (symbols × scenarios);
 *   - execution: intake (approve → audit records → SendOrder: on the tick-to-wire path), one
 *     order-state-machine step (a trade update applied), a duplicate update absorbed, and a full
 *     order life (approve → accepted → partial fill → fill), vs a bare Map lookup + field update;
 *   - positions: mark-to-market on a quote and a fill, vs a bare Map lookup + Fixed multiply.
 *
 *   npx node test/bench/cores-trading.bench.ts [--quick]
 *
 * Fast operations are timed in batches (the timer costs more than one op); the distribution is
 * over batch means, so p99 understates single-op tails.
 */
import { parseArgs } from "node:util";
import { fromDecimal, mul } from "../../services/core/money.ts";
import { mulberry32 } from "../../services/core/random.ts";
import { clientOrderIdFor } from "../../services/execution-engine/core/client-order-id.ts";
import {
  createExecutionState,
  type ExecutionState,
} from "../../services/execution-engine/core/state.ts";
import { stepExecution } from "../../services/execution-engine/core/step.ts";
import type { ExecutionEvent, TradeUpdated } from "../../services/execution-engine/core/types.ts";
import { createPositionState } from "../../services/position-tracker/core/state.ts";
import { stepPositions } from "../../services/position-tracker/core/step.ts";
import type { QuoteReceived } from "../../services/position-tracker/core/types.ts";
import { runChecks, shapeOf } from "../../services/risk-manager/core/checks.ts";
import {
  createRiskState,
  type RiskState,
  symbolExposure,
} from "../../services/risk-manager/core/state.ts";
import { stepRisk } from "../../services/risk-manager/core/step.ts";
import { SPEC_RISK } from "../../services/risk-manager/core/test-support.ts";
import type {
  DailyClose,
  OrderProposed,
  RiskEvent,
} from "../../services/risk-manager/core/types.ts";
import { BenchRows, timeBatched } from "./support/batched.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const SCALE = args.quick ? 0.2 : 1;
const BATCH = 64;
const T0 = 1_772_461_800_000_000_000n;

const bench = new BenchRows();

// ---------- risk ----------
const SYMBOLS = ["AAPL", "MSFT", "XOM", "JPM", "NVDA"];

function riskBook(): RiskState {
  const s = createRiskState({ ...SPEC_RISK, pipelineName: "bench" });
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: fromDecimal(100000),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  const rnd = mulberry32(7);
  for (const symbol of SYMBOLS) {
    let close = 100;
    const closes: DailyClose[] = [];
    for (let day = 0; day <= 252; day++) {
      close *= 1 + (rnd() - 0.5) * 0.02;
      closes.push({ day: 20_000 + day, close: fromDecimal(close.toFixed(4)) });
    }
    stepRisk(s, { type: "DailyClosesRecorded", timeNs: T0, symbol, closes });
    stepRisk(s, {
      type: "PositionChanged",
      timeNs: T0,
      symbol,
      qty: fromDecimal(40),
      marketPrice: fromDecimal(100),
    });
  }
  return s;
}

function benchRisk(): void {
  const n = Math.floor(200_000 * SCALE);
  const s = riskBook();
  const sym = symbolExposure(s, "XOM");
  const qty = fromDecimal(10);
  const price = fromDecimal(100);
  let passed = 0;
  const buy = shapeOf(sym, qty);
  const sell = shapeOf(sym, -qty);
  const checks = timeBatched(n, BATCH, (i) => {
    if (runChecks(s, sym, i & 1 ? buy : sell, price) === null) passed++;
  });
  if (passed !== checks.length * BATCH)
    throw new Error(`risk checks refused ${checks.length * BATCH - passed} orders`);
  bench.report("risk: six pre-trade checks (runChecks)", checks);

  // Baseline 1: the six limits as bare bigint comparisons on a Map lookup.
  const limits = [1000n, 50000n, 5n, 5000n, 10000n, 30000n].map((v) => v * 1_000_000_000n);
  const book = new Map(SYMBOLS.map((x) => [x, { qty: fromDecimal(40), price }]));
  let ok = 0;
  const bare = timeBatched(n, BATCH, () => {
    const p = book.get("XOM")!;
    const v = p.qty + qty;
    if (
      v <= limits[0]! &&
      v * p.price <= limits[1]! * 1_000_000_000n &&
      5n <= limits[2]! &&
      0n < limits[3]! &&
      0n < limits[4]! &&
      v <= limits[5]!
    )
      ok++;
  });
  if (ok === 0) throw new Error("baseline never passed");
  bench.report("  baseline: six bigint comparisons on a Map lookup", bare);

  // Baseline 2: the arithmetic historical VaR cannot avoid: Σ exposure × return per scenario.
  const returns = SYMBOLS.map(() =>
    Float64Array.from({ length: 252 }, (_, k) => Math.sin(k) * 0.01),
  );
  const exposure = new Float64Array(SYMBOLS.length).fill(4000);
  let sink = 0;
  const dots = timeBatched(n, BATCH, () => {
    let worst = 0;
    for (let sc = 0; sc < 252; sc++) {
      let pnl = 0;
      for (let j = 0; j < exposure.length; j++) pnl += exposure[j]! * returns[j]![sc]!;
      if (pnl < worst) worst = pnl;
    }
    sink += worst;
  });
  if (sink === 1) throw new Error("unreachable");
  bench.report("  baseline: bare VaR dot products (5 symbols × 252 days)", dots);

  const proposals: OrderProposed[] = Array.from({ length: n }, (_, i) => ({
    type: "OrderProposed",
    timeNs: T0 + BigInt(i),
    correlationId: `c${i}`,
    signalId: `XOM-${i}`,
    symbol: "XOM",
    side: i & 1 ? "sell" : "buy",
    qty,
    referencePrice: price,
  }));
  // Each order ends right after its decision (working buys and sells are never netted, so
  // orders left working would pile up against the limits).
  const ends: RiskEvent[] = proposals.map((p) => ({
    type: "OrderProgressed",
    timeNs: p.timeNs,
    clientOrderId: clientOrderIdFor("bench", p.signalId),
    filledQty: 0n,
    terminal: true,
  }));
  const s2 = riskBook();
  let approved = 0;
  const decisions = timeBatched(n, BATCH, (i) => {
    const d = stepRisk(s2, proposals[i]!)[0];
    if (d?.type === "PublishDecision" && d.decision.approved) approved++;
    stepRisk(s2, ends[i]!);
  });
  if (approved !== decisions.length * BATCH)
    throw new Error(`decisions refused ${decisions.length * BATCH - approved}`);
  bench.report("risk: whole decision (stepRisk OrderProposed, then the order's end)", decisions);
}

// ---------- execution ----------
/** xomExecution: an execution state that has seen XOM trade at 100 (market orders need a price). */
function xomExecution(): ExecutionState {
  const s = createExecutionState({
    pipelineName: "bench",
    // Unbounded in effect: every order of the run is stepped at T0, all within one minute.
    maxOrdersPerMinute: 1_000_000_000,
    maxSlippageBps: 50,
    retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
  });
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: fromDecimal(100) });
  return s;
}

/** tradeUpdate: the broker's `event` on order `id`, leaving it `status` with `filled` of 10. */
function tradeUpdate(
  id: string,
  event: string,
  status: string,
  filled: number,
  executionId: string,
): TradeUpdated {
  return {
    type: "TradeUpdated",
    timeNs: T0,
    clientOrderId: id,
    event,
    order: {
      brokerOrderId: "b",
      status,
      filledQty: fromDecimal(filled),
      filledAvgPrice: filled > 0 ? fromDecimal(100) : null,
    },
    executionId,
    fillQty: null,
    fillPrice: null,
  };
}

/** accepted: the broker's answer to the order `id`'s POST. */
function accepted(id: string): ExecutionEvent {
  return {
    type: "SendSucceeded",
    timeNs: T0,
    clientOrderId: id,
    order: { brokerOrderId: "b", status: "accepted", filledQty: 0n, filledAvgPrice: null },
  };
}

/** approveXom steps the approval of signal `i` (buy 10 XOM) and returns its client order id. */
function approveXom(s: ExecutionState, i: number): string {
  const out = stepExecution(s, {
    type: "OrderApproved",
    timeNs: T0,
    correlationId: `c${i}`,
    signalId: `XOM-${i}`,
    symbol: "XOM",
    side: "buy",
    qty: fromDecimal(10),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: fromDecimal(100),
  });
  const send = out[out.length - 1];
  if (send?.type !== "SendOrder") throw new Error("not sent");
  return send.request.clientOrderId;
}

function benchExecution(): void {
  const orders = Math.floor(50_000 * SCALE);
  const s = xomExecution();
  const partial: TradeUpdated[] = [];
  const ids: string[] = [];
  const lifeSamples = timeBatched(orders, BATCH, (i) => {
    const id = approveXom(s, i);
    stepExecution(s, accepted(id));
    stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 4, "e1"));
    stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "e2"));
  });
  const life = bench.report(
    "execution: order life, 4 steps (approve→accepted→partial→fill)",
    lifeSamples,
  );

  // One step: a partial fill applied to a live (New) order.
  const s2 = xomExecution();
  const intake = timeBatched(orders, BATCH, (i) => {
    ids.push(approveXom(s2, i));
  });
  bench.report("execution: intake (approve → audit → SendOrder)", intake);
  for (const id of ids) {
    stepExecution(s2, accepted(id));
    partial.push(tradeUpdate(id, "partial_fill", "partially_filled", 4, "e1"));
  }
  const step = timeBatched(orders, BATCH, (i) => {
    stepExecution(s2, partial[i]!);
  });
  bench.report("execution: one step (partial_fill on a New order)", step);
  const dup = timeBatched(orders, BATCH, (i) => {
    stepExecution(s2, partial[i]!);
  });
  bench.report("execution: one step (duplicate partial_fill, absorbed)", dup);

  const bareOrders = new Map(ids.map((id) => [id, { status: "New", filled: 0n }]));
  const bare = timeBatched(orders, BATCH, (i) => {
    const o = bareOrders.get(ids[i]!)!;
    if (o.status === "New") o.status = "PartiallyFilled";
    o.filled = 4_000_000_000n;
  });
  bench.report("  baseline: Map.get + status/field update", bare);
  ratios.push(
    `execution: ${(life.p50 / 4).toFixed(0)} ns per step on average over a whole order life`,
  );
}

// ---------- positions ----------
function benchPositions(): void {
  const n = Math.floor(400_000 * SCALE);
  const s = createPositionState({
    reconcileIntervalSeconds: 300,
    drawdownAlertPct: 5,
    snapshotIntervalSeconds: 3600,
    startingEquity: "100000",
  });
  for (const symbol of SYMBOLS) {
    stepPositions(s, {
      type: "FillReceived",
      timeNs: T0,
      clientOrderId: `o-${symbol}`,
      symbol,
      side: "buy",
      fillQty: fromDecimal(100),
      fillPrice: fromDecimal(100),
      filledQty: fromDecimal(100),
    });
  }
  const rnd = mulberry32(11);
  const quotes: QuoteReceived[] = Array.from({ length: n }, (_, i) => {
    const mid = 10_000 + Math.floor(rnd() * 200) - 100;
    return {
      type: "QuoteReceived",
      timeNs: T0 + BigInt(i) * 1_000_000n,
      symbol: SYMBOLS[i % SYMBOLS.length]!,
      bid: BigInt(mid - 1) * 10_000_000n,
      ask: BigInt(mid + 1) * 10_000_000n,
    };
  });
  const q = timeBatched(n, BATCH, (i) => {
    stepPositions(s, quotes[i]!);
  });
  bench.report("positions: mark-to-market on a quote (+ drawdown check)", q);

  const fills = Math.floor(100_000 * SCALE);
  const f = timeBatched(fills, BATCH, (i) => {
    stepPositions(s, {
      type: "FillReceived",
      timeNs: T0 + BigInt(n + i) * 1_000_000n,
      clientOrderId: `f${i}`,
      symbol: SYMBOLS[i % SYMBOLS.length]!,
      side: i & 2 ? "sell" : "buy",
      fillQty: 7_000_000_000n,
      fillPrice: quotes[i]!.bid,
      filledQty: 7_000_000_000n,
    });
  });
  bench.report("positions: a fill (avg cost, realized P&L, publish)", f);

  const bareBook = new Map(SYMBOLS.map((x) => [x, { qty: fromDecimal(100), mv: 0n }]));
  const bare = timeBatched(n, BATCH, (i) => {
    const e = quotes[i]!;
    const p = bareBook.get(e.symbol)!;
    p.mv = mul(p.qty, (e.bid + e.ask) / 2n);
  });
  bench.report("  baseline: Map.get + one Fixed multiply", bare);
}

const ratios: string[] = [];
benchRisk();
benchExecution();
benchPositions();

bench.print(
  `cores-trading bench (node ${process.version}, batch ${BATCH}${args.quick ? ", quick" : ""})`,
  64,
);
for (const r of ratios) console.log(r);
