/**
 * The TradingSignal the signal-bridge publishes for a BUY or SELL decision, as the fields
 * signal-wire.ts encodes.
 *
 * The signal id is `<symbol>-<event time ns of the quote>`: the same feed gives the same ids in
 * every run and after a restart, and the client_order_id derived from it downstream cannot
 * repeat. (A second signal for a symbol at the same event time, which needs two price changes in
 * one nanosecond, gets `-2`, `-3`, ...)
 */
import { childTraceparent, SignalAction } from "../core/messages/index.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { QuoteFields } from "../market-data/quote-wire.ts";
import type { SignalFields } from "./signal-wire.ts";
import type { Outcome } from "./strategy/aggregate.ts";

export const SOURCE = "signal-bridge";

export class SignalIds {
  readonly #last = new Map<string, { timeNs: bigint; n: number }>();

  next(symbol: string, eventTimeNs: bigint): string {
    const last = this.#last.get(symbol);
    if (last !== undefined && last.timeNs === eventTimeNs) {
      last.n += 1;
      return `${symbol}-${eventTimeNs}-${last.n}`;
    }
    this.#last.set(symbol, { timeNs: eventTimeNs, n: 1 });
    return `${symbol}-${eventTimeNs}`;
  }
}

/** midPrice is the exact mid of a quote's decimal bid and ask. */
export function midPrice(q: QuoteFields): string {
  return toDecimal((fromDecimal(q.bidPrice) + fromDecimal(q.askPrice)) / 2n);
}

/** decimalOf writes a strategy's float price or quantity as a decimal string ("" for 0). */
export function decimalOf(x: number, places: number): string {
  if (!(x > 0) || !Number.isFinite(x)) return "";
  const text = x.toFixed(places);
  // IMPORTANT: only a fraction's trailing zeros go; a whole number keeps its own ("100", not "1").
  return places === 0 ? text : text.replace(/\.?0+$/, "");
}

/**
 * SignalWriter fills the TradingSignal of an aggregated outcome: one reused SignalFields per
 * leading strategy (its indicator names are fixed once it has led a signal, and refreshed only
 * if its indicators change names).
 */
export class SignalWriter {
  readonly #fields: SignalFields[] = [];
  readonly #ids: readonly string[];
  readonly #models: readonly string[];

  /**
   * ids and models (name@version, or "") are per strategy slot; `models` is read on each signal,
   * so its owner may replace an entry when it swaps a model in.
   */
  constructor(ids: readonly string[], models: readonly string[]) {
    this.#ids = ids;
    this.#models = models;
  }

  /**
   * fill writes the signal for `o` (a BUY or SELL). It continues the quote's event: the same
   * event time and origin time, and a child span of its trace when it has one.
   */
  fill(
    q: QuoteFields,
    signalId: string,
    o: Outcome,
    indicators: Readonly<Record<string, number>> | undefined,
  ): SignalFields {
    const out = this.#fieldsOf(o.leader, indicators);
    out.eventTimeNs = q.eventTimeNs;
    out.originTimeNs = q.originTimeNs;
    out.traceparent = q.traceparent ? childTraceparent(q.traceparent) : "";
    out.signalId = signalId;
    out.symbol = q.symbol;
    out.action = o.direction > 0 ? SignalAction.BUY : SignalAction.SELL;
    out.confidence = o.confidence;
    // Read on every signal: a model swapped at run time changes the slot's model version.
    out.model = this.#models[o.leader] ?? "";
    const names = out.indicatorNames;
    for (let i = 0; i < names.length; i++) out.indicatorValues[i] = indicators![names[i]!]!;
    out.referencePrice = midPrice(q);
    out.quantity = decimalOf(Math.floor(o.targetQty), 0);
    out.limitPrice = decimalOf(o.limitPrice, 4);
    return out;
  }

  #fieldsOf(slot: number, indicators: Readonly<Record<string, number>> | undefined): SignalFields {
    let f = this.#fields[slot];
    const names = indicators === undefined ? [] : Object.keys(indicators);
    if (f === undefined || !sameNames(f.indicatorNames, names)) {
      f = {
        source: SOURCE,
        eventTimeNs: 0n,
        traceparent: "",
        originTimeNs: 0n,
        signalId: "",
        symbol: "",
        action: SignalAction.UNSPECIFIED,
        confidence: 0,
        indicatorNames: names,
        indicatorValues: new Float64Array(names.length),
        referencePrice: "",
        model: this.#models[slot] ?? "",
        strategyId: this.#ids[slot] ?? "",
        quantity: "",
        limitPrice: "",
      };
      this.#fields[slot] = f;
    }
    return f;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
