/**
 * spec-params: the execution core's parameters from a TradingPipeline, written once for the
 * stage shell and the kernel (backtest, replay). `accountKeyId` scopes client_order_ids as the
 * broker account's key id.
 */
import type { TradingPipeline } from "../core/spec/index.ts";
import type { ExecutionParams } from "./core/index.ts";
import { pipelineOrderIdScope } from "./order-id-scope.ts";

export function executionParamsFromSpec(
  pipeline: TradingPipeline,
  accountKeyId: string,
): ExecutionParams {
  const e = pipeline.spec.execution;
  return {
    pipelineName: pipelineOrderIdScope(pipeline, accountKeyId),
    maxOrdersPerMinute: e.maxOrdersPerMinute,
    maxSlippageBps: e.maxSlippageBps,
    retries: e.retries,
  };
}
