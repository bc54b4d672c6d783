/**
 * kernelConfigOf derives every core's parameters from a TradingPipeline the way the stage
 * shells do, so the kernel (backtest or live) and the five stage processes run one spec alike.
 * `accountKeyId` scopes the client_order_ids as the live stages scope them (the broker account's
 * key id); a backtest passes a fixed one.
 */
import { feeSchedule } from "../core/fees.ts";
import { fromDecimal } from "../core/money.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { pipelineOrderIdScope } from "../execution-engine/order-id-scope.ts";
import { signalParamsOf } from "../signal-bridge/stage.ts";
import type { KernelConfig } from "./kernel.ts";

/** BACKTEST_ACCOUNT: the account key id a backtest's order ids are scoped with. */
export const BACKTEST_ACCOUNT = "backtest";

export function kernelConfigOf(
  pipeline: TradingPipeline,
  sectors: ReadonlyMap<string, string>,
  accountKeyId: string = BACKTEST_ACCOUNT,
): KernelConfig {
  const spec = pipeline.spec;
  const r = spec.risk;
  const sectorRecord = Object.fromEntries(sectors);
  const scope = pipelineOrderIdScope(pipeline, accountKeyId);
  const { fees, sharedAccountCapital, ...positionSpec } = spec.positions;
  return {
    signal: signalParamsOf(spec.strategy),
    orderQty: fromDecimal(spec.strategy.orderQty),
    risk: {
      pipelineName: scope,
      maxPositionShares: r.maxPositionShares,
      maxNotionalPerSymbol: r.maxNotionalPerSymbol,
      maxOpenPositions: r.maxOpenPositions,
      maxDailyLoss: r.maxDailyLoss,
      maxVar99: r.maxVar99,
      varWindowDays: r.varWindowDays,
      maxSectorConcentration: r.maxSectorConcentration,
      circuitBreaker: { ...r.circuitBreaker },
      sectors: sectorRecord,
    },
    execution: {
      pipelineName: scope,
      maxOrdersPerMinute: spec.execution.maxOrdersPerMinute,
      maxSlippageBps: spec.execution.maxSlippageBps,
      retries: spec.execution.retries,
    },
    positions: {
      ...positionSpec,
      sectors: sectorRecord,
      fees: feeSchedule(fees),
      symbols: spec.symbols,
      ...(sharedAccountCapital !== undefined
        ? { startingEquity: sharedAccountCapital, sharedAccount: true }
        : {}),
    },
  };
}
