/**
 * Broker is the product's port to a broker in domain terms (Fixed, ns): what the execution
 * engine and the reconciler need, with exactly-once order placement per client_order_id.
 * AlpacaBroker implements it over the Alpaca client; an in-process simulated broker (for the
 * backtester) can implement it too, and test/alpaca-client/broker-contract.ts checks both alike.
 */
import { type Fixed, toDecimal } from "../core/money.ts";
import {
  accountFromWire,
  type BrokerAccount,
  type BrokerOrder,
  type BrokerPosition,
  orderFromWire,
  positionFromWire,
} from "./domain.ts";
import type { AlpacaTradingClient } from "./trading-client.ts";
import type { OrderRequest, OrderSide, TimeInForce } from "./wire-types.ts";

export interface OrderIntent {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: "market" | "limit";
  timeInForce: TimeInForce;
  qty: Fixed;
  limitPrice?: Fixed | null;
}

export interface Broker {
  /** submitOrder places the intent at most once per clientOrderId; a repeat returns that order. */
  submitOrder(intent: OrderIntent): Promise<BrokerOrder>;
  /** getOrderByClientOrderId returns null when the broker never received the order. */
  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null>;
  /** cancelOrder asks for a cancel; the order reaches `canceled` unless it filled first. */
  cancelOrder(brokerOrderId: string): Promise<void>;
  listOpenOrders(): Promise<BrokerOrder[]>;
  listPositions(): Promise<BrokerPosition[]>;
  getAccount(): Promise<BrokerAccount>;
}

/** orderRequestFromIntent renders an intent as Alpaca's POST body (decimals as strings). */
export function orderRequestFromIntent(intent: OrderIntent): OrderRequest {
  const req: OrderRequest = {
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    time_in_force: intent.timeInForce,
    qty: toDecimal(intent.qty),
    client_order_id: intent.clientOrderId,
  };
  if (intent.type === "limit" && intent.limitPrice != null) {
    req.limit_price = toDecimal(intent.limitPrice);
  }
  return req;
}

export class AlpacaBroker implements Broker {
  readonly #trading: AlpacaTradingClient;

  constructor(trading: AlpacaTradingClient) {
    this.#trading = trading;
  }

  async submitOrder(intent: OrderIntent): Promise<BrokerOrder> {
    return orderFromWire(await this.#trading.submitOrder(orderRequestFromIntent(intent)));
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    const o = await this.#trading.getOrderByClientOrderId(clientOrderId);
    return o === null ? null : orderFromWire(o);
  }

  cancelOrder(brokerOrderId: string): Promise<void> {
    return this.#trading.cancelOrder(brokerOrderId);
  }

  async listOpenOrders(): Promise<BrokerOrder[]> {
    const orders = await this.#trading.listOrders({ status: "open", limit: 500 });
    return orders.map(orderFromWire);
  }

  async listPositions(): Promise<BrokerPosition[]> {
    return (await this.#trading.listPositions()).map(positionFromWire);
  }

  async getAccount(): Promise<BrokerAccount> {
    return accountFromWire(await this.#trading.getAccount());
  }
}
