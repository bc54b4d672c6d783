/**
 * views: the simulator's state rendered exactly as Alpaca's Trading API renders it — snake_case
 * field names, decimals as strings, absent values as null, RFC-3339 nanosecond timestamps.
 */
import { abs, div, type Fixed, toDecimal, ZERO } from "../../core/money.ts";
import { accountFigures, qtyAvailable } from "../core/account.ts";
import type { Asset, BrokerState, TradeUpdate } from "../core/broker.ts";
import { avgEntryPrice, type Position } from "../core/ledger.ts";
import type { Order } from "../core/orders.ts";
import { etDate, formatEt, formatRfc3339, type Nanos, nextClose, nextOpen } from "../core/time.ts";

const d = (v: Fixed | null): string | null => (v === null ? null : toDecimal(v));
const ts = (v: Nanos | null): string | null => (v === null ? null : formatRfc3339(v));

export function orderJson(o: Order): Record<string, unknown> {
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    created_at: ts(o.createdAt),
    updated_at: ts(o.updatedAt),
    submitted_at: ts(o.submittedAt),
    filled_at: ts(o.filledAt),
    expired_at: ts(o.expiredAt),
    canceled_at: ts(o.canceledAt),
    failed_at: ts(o.failedAt),
    replaced_at: ts(o.replacedAt),
    replaced_by: o.replacedBy,
    replaces: o.replaces,
    asset_id: o.assetId,
    symbol: o.symbol,
    asset_class: "us_equity",
    notional: d(o.notional),
    qty: d(o.qty),
    filled_qty: toDecimal(o.filledQty),
    filled_avg_price: o.filledQty > ZERO ? toDecimal(div(o.filledNotional, o.filledQty)) : null,
    order_class: "",
    order_type: o.type,
    type: o.type,
    side: o.side,
    position_intent: o.positionIntent,
    time_in_force: o.timeInForce,
    limit_price: d(o.limitPrice),
    stop_price: d(o.stopPrice),
    status: o.status,
    extended_hours: o.extendedHours,
    legs: null,
    trail_percent: d(o.trailPercent),
    trail_price: d(o.trailPrice),
    hwm: d(o.hwm),
    expires_at: ts(o.expiresAt),
  };
}

/** Marks gives a position's current and previous-close prices. */
export interface Marks {
  current(symbol: string): Fixed | undefined;
  lastday(symbol: string): Fixed | undefined;
}

export function positionJson(
  state: BrokerState,
  p: Position,
  marks: Marks,
): Record<string, unknown> {
  const asset = state.assets.get(p.symbol);
  const avg = avgEntryPrice(p);
  const current = marks.current(p.symbol) ?? avg;
  const lastday = marks.lastday(p.symbol) ?? current;
  const marketValue = (p.qty * current) / 1_000_000_000n;
  const unrealized = marketValue - p.costBasis;
  const intraday = marketValue - (p.qty * lastday) / 1_000_000_000n;
  const basis = abs(p.costBasis);
  const lastdayValue = abs((p.qty * lastday) / 1_000_000_000n);
  return {
    asset_id: p.assetId,
    symbol: p.symbol,
    exchange: asset?.exchange ?? "",
    asset_class: "us_equity",
    asset_marginable: asset?.marginable ?? true,
    avg_entry_price: toDecimal(avg),
    qty: toDecimal(p.qty),
    qty_available: toDecimal(qtyAvailable(state, p.symbol)),
    side: p.qty > ZERO ? "long" : "short",
    market_value: toDecimal(marketValue),
    cost_basis: toDecimal(p.costBasis),
    unrealized_pl: toDecimal(unrealized),
    unrealized_plpc: toDecimal(basis === ZERO ? ZERO : div(unrealized, basis)),
    unrealized_intraday_pl: toDecimal(intraday),
    unrealized_intraday_plpc: toDecimal(lastdayValue === ZERO ? ZERO : div(intraday, lastdayValue)),
    current_price: toDecimal(current),
    lastday_price: toDecimal(lastday),
    change_today: toDecimal(lastday === ZERO ? ZERO : div(current - lastday, lastday)),
  };
}

export function accountJson(
  state: BrokerState,
  now: Nanos,
  shortingEnabled: boolean,
): Record<string, unknown> {
  const f = accountFigures(state);
  const bp = toDecimal(f.buyingPower);
  return {
    id: state.accountId,
    account_number: state.accountNumber,
    status: "ACTIVE",
    crypto_status: "ACTIVE",
    currency: "USD",
    buying_power: bp,
    regt_buying_power: bp,
    daytrading_buying_power: "0",
    effective_buying_power: bp,
    non_marginable_buying_power: bp,
    options_buying_power: bp,
    bod_dtbp: "0",
    cash: toDecimal(f.cash),
    accrued_fees: "0",
    pending_transfer_in: "0",
    pending_transfer_out: "0",
    portfolio_value: toDecimal(f.equity),
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    created_at: formatRfc3339(state.createdAt),
    trade_suspended_by_user: false,
    multiplier: "1",
    shorting_enabled: shortingEnabled,
    equity: toDecimal(f.equity),
    last_equity: toDecimal(state.lastEquity),
    long_market_value: toDecimal(f.longMarketValue),
    short_market_value: toDecimal(f.shortMarketValue),
    position_market_value: toDecimal(f.longMarketValue - f.shortMarketValue),
    initial_margin: toDecimal(abs(f.shortMarketValue)),
    maintenance_margin: toDecimal(abs(f.shortMarketValue)),
    last_maintenance_margin: "0",
    sma: "0",
    daytrade_count: 0,
    balance_asof: etDate(now),
    crypto_tier: 0,
    options_trading_level: 0,
    options_approved_level: 0,
    intraday_adjustments: "0",
    pending_reg_taf_fees: "0",
  };
}

export function assetJson(a: Asset): Record<string, unknown> {
  return {
    id: a.id,
    class: "us_equity",
    exchange: a.exchange,
    symbol: a.symbol,
    name: a.name,
    status: "active",
    tradable: a.tradable,
    marginable: a.marginable,
    maintenance_margin_requirement: 30,
    margin_requirement_long: "30",
    margin_requirement_short: "100",
    shortable: a.shortable,
    easy_to_borrow: a.easyToBorrow,
    borrow_status: a.easyToBorrow ? "easy_to_borrow" : "hard_to_borrow",
    fractionable: a.fractionable,
    attributes: a.fractionable ? ["fractional_eh_enabled"] : [],
  };
}

export function clockJson(now: Nanos, isOpen: boolean): Record<string, unknown> {
  return {
    timestamp: formatEt(now),
    is_open: isOpen,
    next_open: formatEt(nextOpen(now)),
    next_close: formatEt(nextClose(now)),
  };
}

/** tradeUpdateJson renders one trade_updates stream message's `data`. */
export function tradeUpdateJson(u: TradeUpdate): Record<string, unknown> {
  const data: Record<string, unknown> = {
    event: u.event,
    timestamp: formatRfc3339(u.t),
    order: orderJson(u.order),
  };
  if (u.executionId !== undefined) data["execution_id"] = u.executionId;
  if (u.price !== undefined) data["price"] = toDecimal(u.price);
  if (u.qty !== undefined) data["qty"] = toDecimal(u.qty);
  if (u.positionQty !== undefined) data["position_qty"] = toDecimal(u.positionQty);
  return data;
}
