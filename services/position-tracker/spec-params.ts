/**
 * spec-params: the position tracker core's parameters from a TradingPipeline, written once for
 * the stage shell and the kernel (backtest, replay).
 */
import { feeSchedule } from "../core/fees.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { PositionParams } from "./core/index.ts";

export function positionParamsFromSpec(
  pipeline: TradingPipeline,
  sectors: ReadonlyMap<string, string>,
): PositionParams {
  const { fees, sharedAccountCapital, ...positionSpec } = pipeline.spec.positions;
  return {
    ...positionSpec,
    sectors: Object.fromEntries(sectors),
    fees: feeSchedule(fees),
    symbols: pipeline.spec.symbols,
    ...(sharedAccountCapital !== undefined
      ? { startingEquity: sharedAccountCapital, sharedAccount: true }
      : {}),
  };
}
