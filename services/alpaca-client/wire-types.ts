/**
 * Wire types of Alpaca's Trading API v2, field for field as the broker sends them.
 *
 * Decimals stay strings here (exactly as on the wire); `domain.ts` turns them into `Fixed`.
 * Missing values are `null`, as Alpaca sends them.
 */

export type OrderSide = "buy" | "sell";
export type OrderType = "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
export type TimeInForce = "day" | "gtc" | "opg" | "cls" | "ioc" | "fok";
export type OrderClass = "" | "simple" | "bracket" | "oco" | "oto" | "mleg";
export type OrderStatus =
  | "new"
  | "partially_filled"
  | "filled"
  | "done_for_day"
  | "canceled"
  | "expired"
  | "replaced"
  | "pending_cancel"
  | "pending_replace"
  | "accepted"
  | "pending_new"
  | "accepted_for_bidding"
  | "stopped"
  | "rejected"
  | "suspended"
  | "calculated"
  | "held"
  | "pending_review";

/**
 * FINAL_ORDER_STATUSES are the states from which an order never moves again. (`done_for_day`
 * is not one: a gtc order in it trades again the next session.)
 */
export const FINAL_ORDER_STATUSES: ReadonlySet<string> = new Set([
  "filled",
  "canceled",
  "expired",
  "replaced",
  "rejected",
]);

export interface WireAccount {
  id: string;
  account_number: string;
  status: string;
  crypto_status?: string;
  currency: string;
  buying_power: string;
  regt_buying_power: string;
  daytrading_buying_power: string;
  non_marginable_buying_power: string;
  options_buying_power?: string;
  cash: string;
  accrued_fees: string;
  pending_transfer_in?: string | null;
  pending_transfer_out?: string | null;
  portfolio_value: string;
  equity: string;
  last_equity: string;
  long_market_value: string;
  short_market_value: string;
  initial_margin: string;
  maintenance_margin: string;
  last_maintenance_margin: string;
  sma: string;
  multiplier: string;
  daytrade_count: number;
  pattern_day_trader: boolean;
  trading_blocked: boolean;
  transfers_blocked: boolean;
  account_blocked: boolean;
  trade_suspended_by_user: boolean;
  shorting_enabled: boolean;
  created_at: string;
  balance_asof?: string;
}

export interface WireClock {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

export interface WireOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string | null;
  submitted_at: string | null;
  filled_at: string | null;
  expired_at: string | null;
  expires_at?: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: string;
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: OrderClass;
  order_type: OrderType;
  type: OrderType;
  side: OrderSide;
  position_intent?: string;
  time_in_force: TimeInForce;
  limit_price: string | null;
  stop_price: string | null;
  status: OrderStatus;
  extended_hours: boolean;
  legs: WireOrder[] | null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
}

/** OrderRequest is the body of POST /v2/orders (decimals as strings). */
export interface OrderRequest {
  symbol: string;
  side: OrderSide;
  type: OrderType;
  time_in_force: TimeInForce;
  qty?: string;
  notional?: string;
  limit_price?: string;
  stop_price?: string;
  trail_price?: string;
  trail_percent?: string;
  extended_hours?: boolean;
  client_order_id?: string;
  order_class?: OrderClass;
  take_profit?: { limit_price: string };
  stop_loss?: { stop_price: string; limit_price?: string };
  position_intent?: string;
}

/** ReplaceOrderRequest is the body of PATCH /v2/orders/{id}. */
export interface ReplaceOrderRequest {
  qty?: string;
  time_in_force?: TimeInForce;
  limit_price?: string;
  stop_price?: string;
  trail?: string;
  client_order_id?: string;
}

export interface ListOrdersQuery {
  status?: "open" | "closed" | "all";
  limit?: number;
  after?: string;
  until?: string;
  direction?: "asc" | "desc";
  nested?: boolean;
  symbols?: string[];
  side?: OrderSide;
}

/** ActivitiesQuery: GET /v2/account/activities[/{type}] parameters. */
export interface ActivitiesQuery {
  /** activity_types: several types at once (the general endpoint), e.g. ["FILL", "FEE"]. */
  activity_types?: string[];
  /** after/until: RFC-3339 or YYYY-MM-DD, exclusive; date: one day. */
  after?: string;
  until?: string;
  date?: string;
  direction?: "asc" | "desc";
  /** page_size: 1–100 (default 100). */
  page_size?: number;
  /** page_token: the id of the last activity of the previous page. */
  page_token?: string;
}

/** WireFillActivity: a FILL account activity (Alpaca's TradingActivities). */
export interface WireFillActivity {
  id: string;
  activity_type: "FILL";
  transaction_time: string;
  type: "fill" | "partial_fill";
  price: string;
  qty: string;
  side: string;
  symbol: string;
  leaves_qty: string;
  order_id: string;
  cum_qty: string;
  order_status: string;
}

/** WireNonTradeActivity: any other activity, FEE among them (Alpaca's NonTradeActivities). */
export interface WireNonTradeActivity {
  id: string;
  activity_type: string;
  activity_sub_type?: string;
  date: string;
  net_amount: string;
  description?: string;
  symbol?: string;
  qty?: string;
  per_share_amount?: string | null;
  status?: string;
  created_at?: string;
  currency?: string;
  group_id?: string;
}

export type WireActivity = WireFillActivity | WireNonTradeActivity;

export interface WireCanceledOrder {
  id: string;
  status: number;
  body?: unknown;
}

export interface WirePosition {
  asset_id: string;
  symbol: string;
  exchange: string;
  asset_class: string;
  asset_marginable: boolean;
  avg_entry_price: string;
  qty: string;
  qty_available?: string;
  side: "long" | "short";
  market_value: string;
  cost_basis: string;
  unrealized_pl: string;
  unrealized_plpc: string;
  unrealized_intraday_pl: string;
  unrealized_intraday_plpc: string;
  current_price: string;
  lastday_price: string;
  change_today: string;
}

export interface WireClosedPosition {
  symbol: string;
  status: number;
  body?: WireOrder | { code?: number; message?: string };
}

export interface ClosePositionQuery {
  qty?: string;
  percentage?: string;
}

export interface WireAsset {
  id: string;
  class: string;
  exchange: string;
  symbol: string;
  name: string;
  status: "active" | "inactive";
  tradable: boolean;
  marginable: boolean;
  shortable: boolean;
  easy_to_borrow: boolean;
  fractionable: boolean;
  min_order_size?: string;
  min_trade_increment?: string;
  price_increment?: string;
  attributes?: string[];
}

/** WireTradeUpdate is the `data` of a trade_updates stream message. */
export interface WireTradeUpdate {
  event: string;
  execution_id?: string;
  order: WireOrder;
  timestamp: string;
  price?: string;
  qty?: string;
  position_qty?: string;
}

/** AlpacaErrorBody is Alpaca's error envelope; some errors add fields (buying_power, ...). */
export interface AlpacaErrorBody {
  code?: number;
  message?: string;
  [extra: string]: unknown;
}
