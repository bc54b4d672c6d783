/**
 * Diagnostics channels of the execution-engine stage (node:diagnostics_channel). Nothing is
 * built or published unless a subscriber is attached (`hasSubscribers`).
 *
 * - `tradepipe:execution:order-sent`: `{ clientOrderId, symbol, intentEventTimeNs }` right after
 *   the order POST was handed to the Alpaca client (which has written it on an idle dedicated
 *   order connection before returning; with none idle, undici writes it a turn later). `intentEventTimeNs` is the event time in the OrderIntent's header, i.e.
 *   the time of the tick the order descends from; the benchmark measures tick → wire with it.
 *   Sent once per POST: a retry of the same order publishes again.
 */
import { channel } from "node:diagnostics_channel";

export const orderSentChannel = channel("tradepipe:execution:order-sent");

export interface OrderSent {
  clientOrderId: string;
  symbol: string;
  intentEventTimeNs: bigint;
}
