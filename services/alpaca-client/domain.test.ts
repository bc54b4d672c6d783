import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../core/money.ts";
import { accountFromWire, orderFromWire, positionFromWire, tradeUpdateFromWire } from "./domain.ts";
import type { WireOrder } from "./wire-types.ts";

const order: WireOrder = {
  id: "61e69015-8549-4bfd-b9c3-01e75843f47d",
  client_order_id: "pipe-1:sig-42",
  created_at: "2026-03-02T14:30:00.123456789Z",
  updated_at: "2026-03-02T14:30:00.2Z",
  submitted_at: "2026-03-02T14:30:00.123456789Z",
  filled_at: null,
  expired_at: null,
  canceled_at: null,
  failed_at: null,
  replaced_at: null,
  replaced_by: null,
  replaces: null,
  asset_id: "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
  symbol: "AAPL",
  asset_class: "us_equity",
  notional: null,
  qty: "10.5",
  filled_qty: "3",
  filled_avg_price: "187.1234",
  order_class: "",
  order_type: "limit",
  type: "limit",
  side: "buy",
  time_in_force: "day",
  limit_price: "187.25",
  stop_price: null,
  status: "partially_filled",
  extended_hours: false,
  legs: null,
  trail_percent: null,
  trail_price: null,
  hwm: null,
};

test("orderFromWire parses every decimal exactly and keeps nulls", () => {
  const o = orderFromWire(order);
  assert.equal(o.qty, 10_500_000_000n);
  assert.equal(o.filledQty, 3_000_000_000n);
  assert.equal(o.filledAvgPrice, 187_123_400_000n);
  assert.equal(o.limitPrice, 187_250_000_000n);
  assert.equal(o.stopPrice, null);
  assert.equal(o.notional, null);
  assert.equal(o.createdAtNs, 1772461800123456789n);
  assert.equal(o.clientOrderId, "pipe-1:sig-42");
});

test("a fill update carries exact price, qty and position qty", () => {
  const u = tradeUpdateFromWire({
    event: "fill",
    execution_id: "e-1",
    order,
    timestamp: "2026-03-02T14:30:01Z",
    price: "187.1234",
    qty: "0.000000001",
    position_qty: "-2",
  });
  assert.equal(u.price, fromDecimal("187.1234"));
  assert.equal(u.qty, 1n);
  assert.equal(u.positionQty, -2_000_000_000n);
  assert.equal(
    tradeUpdateFromWire({ event: "new", order, timestamp: order.created_at }).price,
    null,
  );
});

test("positions and accounts keep signed, exact values", () => {
  const p = positionFromWire({
    asset_id: "x",
    symbol: "TSLA",
    exchange: "NASDAQ",
    asset_class: "us_equity",
    asset_marginable: true,
    avg_entry_price: "250.01",
    qty: "-5",
    side: "short",
    market_value: "-1250.5",
    cost_basis: "-1250.05",
    unrealized_pl: "-0.45",
    unrealized_plpc: "-0.00036",
    unrealized_intraday_pl: "-0.45",
    unrealized_intraday_plpc: "-0.00036",
    current_price: "250.1",
    lastday_price: "249",
    change_today: "0.0044",
  });
  assert.equal(p.qty, -5_000_000_000n);
  assert.equal(p.unrealizedPl, -450_000_000n);
  const a = accountFromWire({
    id: "a",
    account_number: "PA1",
    status: "ACTIVE",
    currency: "USD",
    buying_power: "400000",
    regt_buying_power: "200000",
    daytrading_buying_power: "400000",
    non_marginable_buying_power: "100000",
    cash: "100000.01",
    accrued_fees: "0",
    portfolio_value: "100000.01",
    equity: "100000.01",
    last_equity: "100000",
    long_market_value: "0",
    short_market_value: "0",
    initial_margin: "0",
    maintenance_margin: "0",
    last_maintenance_margin: "0",
    sma: "0",
    multiplier: "4",
    daytrade_count: 0,
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    trade_suspended_by_user: false,
    shorting_enabled: true,
    created_at: "2026-01-01T00:00:00Z",
  });
  assert.equal(a.cash, 100_000_010_000_000n);
});
