/** test-support builds position-tracker states and events for the unit tests (not product code). */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { createPositionState, type PositionState } from "./state.ts";
import type {
  FillReceived,
  PositionCommand,
  PositionParams,
  QuoteReceived,
  Side,
} from "./types.ts";

export const SECOND = 1_000_000_000n;
export const T0 = 1_772_461_800n * SECOND;

export const SPEC_POSITIONS: PositionParams = {
  reconcileIntervalSeconds: 300,
  drawdownAlertPct: 5,
  snapshotIntervalSeconds: 3600,
};

export const d = (s: string | number): Fixed => fromDecimal(s);

export function tracker(overrides: Partial<PositionParams> = {}): PositionState {
  return createPositionState({ ...SPEC_POSITIONS, ...overrides });
}

const cum = new Map<string, Fixed>();
let orderSeq = 0;

/** fill builds a complete fill of a fresh order (filledQty = fillQty). */
export function fill(
  symbol: string,
  side: Side,
  qty: string | number,
  price: string | number,
  timeNs = T0,
): FillReceived {
  const id = `o-${++orderSeq}`;
  cum.set(id, d(qty));
  return {
    type: "FillReceived",
    timeNs,
    clientOrderId: id,
    symbol,
    side,
    fillQty: d(qty),
    fillPrice: d(price),
    filledQty: d(qty),
  };
}

export function quote(
  symbol: string,
  bid: string | number,
  ask: string | number,
  timeNs = T0,
): QuoteReceived {
  return { type: "QuoteReceived", timeNs, symbol, bid: d(bid), ask: d(ask) };
}

export function ofType<T extends PositionCommand["type"]>(cmds: PositionCommand[], type: T) {
  return cmds.filter((c): c is Extract<PositionCommand, { type: T }> => c.type === type);
}
