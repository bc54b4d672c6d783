/**
 * kernelConfigOf derives every core's parameters from a TradingPipeline the way the stage
 * shells do, so the kernel (backtest or live) and the five stage processes run one spec alike.
 */
import { feeSchedule } from "../core/fees.ts";
import { fromDecimal } from "../core/money.ts";
import type { TradingPipelineSpec } from "../core/spec/index.ts";
import { signalParamsOf } from "../signal-bridge/stage.ts";
import type { KernelConfig } from "./kernel.ts";

export function kernelConfigOf(
  pipelineName: string,
  spec: TradingPipelineSpec,
  sectors: ReadonlyMap<string, string>,
): KernelConfig {
  const r = spec.risk;
  const sectorRecord = Object.fromEntries(sectors);
  return {
    signal: signalParamsOf(spec.strategy),
    orderQty: fromDecimal(spec.strategy.orderQty),
    risk: {
      pipelineName,
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
      pipelineName,
      maxOrdersPerMinute: spec.execution.maxOrdersPerMinute,
      maxSlippageBps: spec.execution.maxSlippageBps,
      retries: spec.execution.retries,
    },
    positions: (() => {
      // The same translation the position-tracker's shell makes: rates → an exact schedule, the
      // pipeline's own universe, and a shared account's capital as its equity.
      const { fees, sharedAccountCapital, ...positionSpec } = spec.positions;
      return {
        ...positionSpec,
        sectors: sectorRecord,
        fees: feeSchedule(fees),
        symbols: spec.symbols,
        ...(sharedAccountCapital !== undefined
          ? { startingEquity: sharedAccountCapital, sharedAccount: true }
          : {}),
      };
    })(),
  };
}
