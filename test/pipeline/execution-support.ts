/**
 * execution-support: what the execution-engine tests share: publishing intents, quotes and
 * control messages on the bus, decoding the engine's OrderUpdates, and reading its tables.
 */

import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import type pg from "pg";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { DEV_KEYS, type Simulator } from "../../services/broker-sim/index.ts";
import type { Bus } from "../../services/core/bus/index.ts";
import { InProcBus } from "../../services/core/bus/index.ts";
import { decodeMessage, publishMessage } from "../../services/core/bus/typed.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import {
  ControlCommand,
  ControlSchema,
  IntentDecision,
  newHeader,
  OrderIntentSchema,
  OrderType,
  type OrderUpdate,
  OrderUpdateSchema,
  QuoteSchema,
  Side,
  TimeInForce,
  wallClockNs,
} from "../../services/core/messages/index.ts";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { createLogger, createMetrics, type Metrics } from "../../services/core/telemetry/index.ts";
import { clientOrderIdFor, orderIdScope } from "../../services/execution-engine/core/index.ts";
import { simulatorEndpoints } from "../../services/pipeline/broker-connection.ts";
import { type HostDeps, loadSectors } from "../../services/pipeline/host.ts";
import { sharedMetrics } from "../../services/pipeline/metrics.ts";
import { useTestJournalDir } from "./stage-harness.ts";

export const PIPELINE = "test";
/** SYMBOLS: the universe of the test pipelines these helpers serve (it is in the id scope). */
export const SYMBOLS = ["AAPL", "MSFT"];

export interface IntentOptions {
  signalId: string;
  symbol?: string;
  side?: "buy" | "sell";
  qty?: string;
  limitPrice?: string;
  decisionPrice: string;
  /** Header origin_time_ns: when market-data read the tick's frame (default 0: none). */
  originTimeNs?: bigint;
}

/** coid is the client_order_id the stages derive for pipeline "test" on the simulator's account. */
export const coid = (signalId: string, symbols: readonly string[] = SYMBOLS) =>
  clientOrderIdFor(orderIdScope({ account: DEV_KEYS.keyId, name: PIPELINE, symbols }), signalId);

/** publishIntent publishes an approved OrderIntent as the risk-manager does. */
export function publishIntent(bus: Bus, o: IntentOptions): string {
  const symbol = o.symbol ?? "AAPL";
  publishMessage(
    bus,
    `order.intent/${symbol}`,
    OrderIntentSchema,
    create(OrderIntentSchema, {
      header: newHeader("risk-manager", wallClockNs(), { originTimeNs: o.originTimeNs ?? 0n }),
      clientOrderId: coid(o.signalId),
      signalId: o.signalId,
      symbol,
      side: o.side === "sell" ? Side.SELL : Side.BUY,
      qty: o.qty ?? "5",
      orderType: o.limitPrice === undefined ? OrderType.MARKET : OrderType.LIMIT,
      limitPrice: o.limitPrice ?? "",
      timeInForce: TimeInForce.DAY,
      decision: IntentDecision.APPROVED,
      decisionPrice: o.decisionPrice,
      correlationId: `corr-${o.signalId}`,
    }),
  );
  return coid(o.signalId);
}

export function publishQuote(bus: Bus, symbol: string, bid: string, ask: string): void {
  publishMessage(
    bus,
    `md.quote/${symbol}`,
    QuoteSchema,
    create(QuoteSchema, {
      header: newHeader("market-data", wallClockNs()),
      symbol,
      bidPrice: bid,
      bidSize: "100",
      askPrice: ask,
      askSize: "100",
    }),
  );
}

export function publishKillSwitch(bus: Bus, on: boolean): void {
  publishMessage(
    bus,
    "control",
    ControlSchema,
    create(ControlSchema, {
      header: newHeader("risk-manager", wallClockNs()),
      command: on ? ControlCommand.KILL_SWITCH_ON : ControlCommand.KILL_SWITCH_OFF,
      requestedBy: "test",
      reason: "test",
    }),
  );
}

/** updatesOf decodes the recorded OrderUpdates of one order. */
export function updatesOf(seen: readonly BusMessage[], clientOrderId: string): OrderUpdate[] {
  return seen
    .map((m) => decodeMessage(m, OrderUpdateSchema))
    .filter((u) => u.clientOrderId === clientOrderId);
}

export interface AuditRow {
  id: string;
  event_type: string;
  from_status: string | null;
  to_status: string | null;
  correlation_id: string;
  fencing_epoch: string;
  created_at: Date;
  payload: Record<string, string | number>;
}

export async function auditOf(db: pg.Pool, clientOrderId: string): Promise<AuditRow[]> {
  const r = await db.query<AuditRow>(
    "SELECT * FROM order_audit_trail WHERE client_order_id = $1 ORDER BY id",
    [clientOrderId],
  );
  return r.rows;
}

export async function orderRow(db: pg.Pool, clientOrderId: string) {
  const r = await db.query<{
    status: string;
    filled_qty: string;
    filled_avg_price: string | null;
    broker_order_id: string | null;
    fencing_epoch: string;
    correlation_id: string;
    reject_reason: string | null;
  }>("SELECT * FROM orders WHERE client_order_id = $1", [clientOrderId]);
  return r.rows[0];
}

export async function fillsOf(db: pg.Pool, clientOrderId: string) {
  const r = await db.query<{ execution_id: string; qty: string; price: string }>(
    "SELECT * FROM fills WHERE client_order_id = $1 ORDER BY id",
    [clientOrderId],
  );
  return r.rows;
}

export async function currentEpoch(db: pg.Pool, stage = "execution-engine"): Promise<number> {
  const r = await db.query<{ epoch: string }>(
    "SELECT epoch FROM stage_leadership WHERE stage = $1",
    [stage],
  );
  return Number(r.rows[0]?.epoch ?? 0);
}

/** eventually polls an async condition until it holds; fails naming `what` after `ms`. */
export async function eventually(
  cond: () => Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * engineHostDeps: what host.ts needs to run an execution-engine of the pipeline PIPELINE (AAPL)
 * on `pool` against `sim`, with its own bus and metrics registry, as a process of its own has.
 */
export async function engineHostDeps(o: {
  /** The broker: a simulator, or any Alpaca-compatible URL with its keys (a proxy before one). */
  sim: Pick<Simulator, "tradingUrl" | "keys">;
  pool: pg.Pool;
  signal: AbortSignal;
  name?: string;
}): Promise<HostDeps & { bus: InProcBus; metrics: Metrics }> {
  useTestJournalDir();
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: PIPELINE },
    spec: { symbols: [...SYMBOLS], broker: { kind: "simulator" } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return {
    pipeline: parsed.pipeline,
    bus: new InProcBus(),
    db: o.pool,
    log: createLogger({
      name: o.name ?? "engine",
      level: "warn",
      destination: new Writable({ write: (_c, _e, d) => d() }),
    }),
    metrics: sharedMetrics(createMetrics({ defaultMetrics: false })),
    broker: {
      kind: "simulator",
      endpoints: simulatorEndpoints(o.sim.tradingUrl, parsed.pipeline.spec.broker.dataFeed),
      credentials: new Credentials(o.sim.keys.keyId, o.sim.keys.secretKey, "test"),
    },
    sectors: await loadSectors(),
    routes: {},
    controlRoutes: {},
    signal: o.signal,
  };
}
