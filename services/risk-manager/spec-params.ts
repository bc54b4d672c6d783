/**
 * spec-params: the risk-manager core's parameters from a TradingPipeline, written once for the
 * stage shell and the kernel (backtest, replay), so both run one spec alike.
 */
import type { TradingPipeline } from "../core/spec/index.ts";
import { pipelineOrderIdScope } from "../execution-engine/order-id-scope.ts";
import type { RiskParams } from "./core/index.ts";

/** riskParamsFromSpec: `accountKeyId` scopes client_order_ids as the broker account's key id. */
export function riskParamsFromSpec(
  pipeline: TradingPipeline,
  sectors: ReadonlyMap<string, string>,
  accountKeyId: string,
): RiskParams {
  const r = pipeline.spec.risk;
  return {
    pipelineName: pipelineOrderIdScope(pipeline, accountKeyId),
    maxPositionShares: r.maxPositionShares,
    maxNotionalPerSymbol: r.maxNotionalPerSymbol,
    maxOpenPositions: r.maxOpenPositions,
    maxDailyLoss: r.maxDailyLoss,
    maxVar99: r.maxVar99,
    varWindowDays: r.varWindowDays,
    maxSectorConcentration: r.maxSectorConcentration,
    circuitBreaker: { ...r.circuitBreaker },
    sectors: Object.fromEntries(sectors),
    // A signal's limit price is capped by the execution engine's slippage guard.
    maxSlippageBps: pipeline.spec.execution.maxSlippageBps,
  };
}
