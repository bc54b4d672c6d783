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
import { type Fixed, fromDecimal, mul } from "../../services/core/money.ts";
import { createExecutionState } from "../../services/execution-engine/core/state.ts";
import { stepExecution } from "../../services/execution-engine/core/step.ts";
import type { TradeUpdated } from "../../services/execution-engine/core/types.ts";
import { createPositionState } from "../../services/position-tracker/core/state.ts";
import { stepPositions } from "../../services/position-tracker/core/step.ts";
import type { QuoteReceived } from "../../services/position-tracker/core/types.ts";
import { runChecks } from "../../services/risk-manager/core/checks.ts";
import {
  createRiskState,
  type RiskState,
  symbolExposure,
} from "../../services/risk-manager/core/state.ts";
import { stepRisk } from "../../services/risk-manager/core/step.ts";
import type { OrderProposed } from "../../services/risk-manager/core/types.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const SCALE = args.quick ? 0.2 : 1;
const BATCH = 64;
const T0 = 1_772_461_800_000_000_000n;

interface Stats {
  p50: number;
  p99: number;
  p999: number;
  mean: number;
}

function stats(samples: Float64Array): Stats {
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  let sum = 0;
  for (const v of s) sum += v;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), mean: sum / s.length };
}

/** timeBatched runs op(i) for i in [0, count) in batches and returns per-op ns per batch. */
function timeBatched(count: number, op: (i: number) => void): Float64Array {
  const batches = Math.floor(count / BATCH);
  const out = new Float64Array(batches);
  for (let b = 0; b < batches; b++) {
    const base = b * BATCH;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) op(base + i);
    out[b] = Number(process.hrtime.bigint() - t0) / BATCH;
  }
  return out;
}

const rows: { name: string; s: Stats }[] = [];
function report(name: string, samples: Float64Array): Stats {
  const s = stats(samples);
  rows.push({ name, s });
  return s;
}

/** seeded is a small deterministic PRNG (mulberry32) for synthetic histories. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------- risk ----------
const SYMBOLS = ["AAPL", "MSFT", "XOM", "JPM", "NVDA"];

function riskBook(): RiskState {
  const s = createRiskState({
    pipelineName: "bench",
    maxPositionShares: 1000,
    maxNotionalPerSymbol: "50000",
    maxOpenPositions: 5,
    maxDailyLoss: "5000",
    maxVar99: "10000",
    varWindowDays: 252,
    maxSectorConcentration: 0.3,
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, cooldownSeconds: 300 },
    sectors: { AAPL: "tech", MSFT: "tech", NVDA: "tech", XOM: "energy", JPM: "financials" },
  });
  stepRisk(s, {
    type: "PortfolioChanged",
    timeNs: T0,
    equity: fromDecimal(100000),
    realizedPnl: 0n,
    unrealizedPnl: 0n,
    canTrade: true,
  });
  const rnd = seeded(7);
  for (const symbol of SYMBOLS) {
    let close = 100;
    const closes: Fixed[] = [];
    for (let day = 0; day <= 252; day++) {
      close *= 1 + (rnd() - 0.5) * 0.02;
      closes.push(fromDecimal(close.toFixed(4)));
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
  const checks = timeBatched(n, (i) => {
    if (runChecks(s, sym, i & 1 ? qty : -qty, price) === null) passed++;
  });
  if (passed !== checks.length * BATCH)
    throw new Error(`risk checks refused ${checks.length * BATCH - passed} orders`);
  report("risk: six pre-trade checks (runChecks)", checks);

  // Baseline 1: the six limits as bare bigint comparisons on a Map lookup.
  const limits = [1000n, 50000n, 5n, 5000n, 10000n, 30000n].map((v) => v * 1_000_000_000n);
  const book = new Map(SYMBOLS.map((x) => [x, { qty: fromDecimal(40), price }]));
  let ok = 0;
  const bare = timeBatched(n, () => {
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
  report("  baseline: six bigint comparisons on a Map lookup", bare);

  // Baseline 2: the arithmetic historical VaR cannot avoid: Σ exposure × return per scenario.
  const returns = SYMBOLS.map(() =>
    Float64Array.from({ length: 252 }, (_, k) => Math.sin(k) * 0.01),
  );
  const exposure = new Float64Array(SYMBOLS.length).fill(4000);
  let sink = 0;
  const dots = timeBatched(n, () => {
    let worst = 0;
    for (let sc = 0; sc < 252; sc++) {
      let pnl = 0;
      for (let j = 0; j < exposure.length; j++) pnl += exposure[j]! * returns[j]![sc]!;
      if (pnl < worst) worst = pnl;
    }
    sink += worst;
  });
  if (sink === 1) throw new Error("unreachable");
  report("  baseline: bare VaR dot products (5 symbols × 252 days)", dots);

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
  const s2 = riskBook();
  let approved = 0;
  const decisions = timeBatched(n, (i) => {
    const d = stepRisk(s2, proposals[i]!)[0];
    if (d?.type === "PublishDecision" && d.decision.approved) approved++;
  });
  if (approved !== decisions.length * BATCH)
    throw new Error(`decisions refused ${decisions.length * BATCH - approved}`);
  report("risk: whole decision (stepRisk OrderProposed)", decisions);
}

// ---------- execution ----------
function benchExecution(): void {
  const orders = Math.floor(50_000 * SCALE);
  const s = createExecutionState({
    pipelineName: "bench",
    maxOrdersPerMinute: 10_000,
    maxSlippageBps: 50,
    retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
    rateLimitBurst: 1_000_000_000,
  });
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: fromDecimal(100) });
  const snap = (status: string, filled: number) => ({
    brokerOrderId: "b",
    status,
    filledQty: fromDecimal(filled),
    filledAvgPrice: filled > 0 ? fromDecimal(100) : null,
  });
  const partial: TradeUpdated[] = [];
  const ids: string[] = [];
  const lifeSamples = timeBatched(orders, (i) => {
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
    const id = send.request.clientOrderId;
    stepExecution(s, {
      type: "SendSucceeded",
      timeNs: T0,
      clientOrderId: id,
      order: snap("accepted", 0),
    });
    stepExecution(s, {
      type: "TradeUpdated",
      timeNs: T0,
      clientOrderId: id,
      event: "partial_fill",
      order: snap("partially_filled", 4),
      executionId: "e1",
      fillQty: null,
      fillPrice: null,
    });
    stepExecution(s, {
      type: "TradeUpdated",
      timeNs: T0,
      clientOrderId: id,
      event: "fill",
      order: snap("filled", 10),
      executionId: "e2",
      fillQty: null,
      fillPrice: null,
    });
  });
  const life = report(
    "execution: order life, 4 steps (approve→accepted→partial→fill)",
    lifeSamples,
  );

  // One step: a partial fill applied to a live (New) order.
  const s2 = createExecutionState({
    pipelineName: "bench",
    maxOrdersPerMinute: 10_000,
    maxSlippageBps: 50,
    retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
    rateLimitBurst: 1_000_000_000,
  });
  stepExecution(s2, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: fromDecimal(100) });
  const intake = timeBatched(orders, (i) => {
    const out = stepExecution(s2, {
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
    ids.push(send.request.clientOrderId);
  });
  report("execution: intake (approve → audit → SendOrder)", intake);
  for (const id of ids) {
    stepExecution(s2, {
      type: "SendSucceeded",
      timeNs: T0,
      clientOrderId: id,
      order: snap("accepted", 0),
    });
    partial.push({
      type: "TradeUpdated",
      timeNs: T0,
      clientOrderId: id,
      event: "partial_fill",
      order: snap("partially_filled", 4),
      executionId: "e1",
      fillQty: null,
      fillPrice: null,
    });
  }
  const step = timeBatched(orders, (i) => {
    stepExecution(s2, partial[i]!);
  });
  report("execution: one step (partial_fill on a New order)", step);
  const dup = timeBatched(orders, (i) => {
    stepExecution(s2, partial[i]!);
  });
  report("execution: one step (duplicate partial_fill, absorbed)", dup);

  const bareOrders = new Map(ids.map((id) => [id, { status: "New", filled: 0n }]));
  const bare = timeBatched(orders, (i) => {
    const o = bareOrders.get(ids[i]!)!;
    if (o.status === "New") o.status = "PartiallyFilled";
    o.filled = 4_000_000_000n;
  });
  report("  baseline: Map.get + status/field update", bare);
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
  const rnd = seeded(11);
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
  const q = timeBatched(n, (i) => {
    stepPositions(s, quotes[i]!);
  });
  report("positions: mark-to-market on a quote (+ drawdown check)", q);

  const fills = Math.floor(100_000 * SCALE);
  const f = timeBatched(fills, (i) => {
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
  report("positions: a fill (avg cost, realized P&L, publish)", f);

  const bareBook = new Map(SYMBOLS.map((x) => [x, { qty: fromDecimal(100), mv: 0n }]));
  const bare = timeBatched(n, (i) => {
    const e = quotes[i]!;
    const p = bareBook.get(e.symbol)!;
    p.mv = mul(p.qty, (e.bid + e.ask) / 2n);
  });
  report("  baseline: Map.get + one Fixed multiply", bare);
}

const ratios: string[] = [];
benchRisk();
benchExecution();
benchPositions();

const pad = (s: string, k: number) => s.padEnd(k);
console.log(
  `cores-trading bench (node ${process.version}, batch ${BATCH}${args.quick ? ", quick" : ""})`,
);
console.log(
  `${pad("operation", 64)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"p99.9".padStart(9)} ${"mean".padStart(9)}`,
);
for (const r of rows) {
  const f = (v: number) => `${v.toFixed(0)} ns`.padStart(9);
  console.log(`${pad(r.name, 64)} ${f(r.s.p50)} ${f(r.s.p99)} ${f(r.s.p999)} ${f(r.s.mean)}`);
}
for (const r of ratios) console.log(r);
