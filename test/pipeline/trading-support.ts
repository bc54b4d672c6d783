/**
 * trading-support: what the risk-manager and position-tracker tests play in place of the other
 * stages: order updates and their rows as the execution engine publishes and records them,
 * quotes as market-data publishes them, and the tracker's portfolio as the risk-manager sees it.
 */
import { create } from "@bufbuild/protobuf";
import { publishMessage } from "../../services/core/bus/typed.ts";
import {
  newHeader,
  OrderEvent,
  OrderUpdateSchema,
  PortfolioUpdateSchema,
  QuoteSchema,
  Side,
} from "../../services/core/messages/index.ts";
import type { Harness } from "./stage-harness.ts";

export const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export interface FillSpec {
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  fillQty: string;
  fillPrice: string;
  /** cumulative filled quantity of the order after this fill */
  filledQty: string;
  executionId: string;
}

/** recordFill stores the order and fill rows as the execution engine does (its epoch is 0 here). */
export async function recordFill(h: Harness, f: FillSpec): Promise<void> {
  await h.db.pool.query(
    `INSERT INTO orders (client_order_id, correlation_id, symbol, side, order_type, qty, status,
                         filled_qty, fencing_epoch)
     VALUES ($1, $1, $2, $3, 'market', $4, 'new', 0, 0) ON CONFLICT (client_order_id) DO NOTHING`,
    [f.clientOrderId, f.symbol, f.side, f.qty],
  );
  await h.db.pool.query(
    `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, filled_at,
                        fencing_epoch)
     VALUES ($1, $2, $3, $4, $5, $6, now(), 0)`,
    [f.executionId, f.clientOrderId, f.symbol, f.side, f.fillQty, f.fillPrice],
  );
}

/** publishFill publishes the fill's OrderUpdate as the execution engine does. */
export function publishFill(h: Harness, f: FillSpec): void {
  const complete = f.filledQty === f.qty;
  publishMessage(
    h.bus,
    `order.update/${f.symbol}`,
    OrderUpdateSchema,
    create(OrderUpdateSchema, {
      header: newHeader("execution-engine", nowNs()),
      clientOrderId: f.clientOrderId,
      brokerOrderId: `b-${f.clientOrderId}`,
      symbol: f.symbol,
      side: f.side === "buy" ? Side.BUY : Side.SELL,
      event: complete ? OrderEvent.FILL : OrderEvent.PARTIAL_FILL,
      fillPrice: f.fillPrice,
      fillQty: f.fillQty,
      filledQty: f.filledQty,
      qty: f.qty,
      brokerEventId: f.executionId,
    }),
  );
}

export function publishQuote(h: Harness, symbol: string, bid: string, ask: string): void {
  publishMessage(
    h.bus,
    `md.quote/${symbol}`,
    QuoteSchema,
    create(QuoteSchema, {
      header: newHeader("market-data", nowNs()),
      symbol,
      bidPrice: bid,
      askPrice: ask,
      bidSize: "100",
      askSize: "100",
    }),
  );
}

/** publishPortfolio plays the position-tracker's PortfolioUpdate. */
export function publishPortfolio(
  h: Harness,
  p: { canTrade: boolean; equity?: string; realizedPnl?: string; unrealizedPnl?: string },
): void {
  publishMessage(
    h.bus,
    "position.portfolio",
    PortfolioUpdateSchema,
    create(PortfolioUpdateSchema, {
      header: newHeader("position-tracker", nowNs()),
      equity: p.equity ?? "100000",
      realizedPnl: p.realizedPnl ?? "0",
      unrealizedPnl: p.unrealizedPnl ?? "0",
      marketValue: "0",
      drawdown: "0",
      reconciled: p.canTrade,
      canTrade: p.canTrade,
    }),
  );
}

/** metricValue sums a metric's values (optionally those with the given labels). */
export async function metricValue(
  h: Harness,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = (await h.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels?.[k]) === want))
    .reduce((sum, v) => sum + Number(v.value), 0);
}

export async function epochOf(h: Harness, stage: string): Promise<number> {
  const { rows } = await h.db.pool.query<{ epoch: string }>(
    "SELECT epoch FROM stage_leadership WHERE stage = $1",
    [stage],
  );
  return Number(rows[0]?.epoch ?? 0);
}

/** placeSimOrder sends a market order straight to the simulator's REST with its dev keys. */
export async function placeSimOrder(
  h: Harness,
  symbol: string,
  side: "buy" | "sell",
  qty: string,
): Promise<{ id: string; status: string }> {
  const res = await fetch(`${h.sim.tradingUrl}/v2/orders`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "APCA-API-KEY-ID": h.sim.keys.keyId,
      "APCA-API-SECRET-KEY": h.sim.keys.secretKey,
    },
    body: JSON.stringify({ symbol, side, qty, type: "market", time_in_force: "day" }),
  });
  if (!res.ok) throw new Error(`simulator refused the order: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; status: string };
}
