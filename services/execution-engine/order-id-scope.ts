/**
 * order-id-scope: the order-id scope of the pipeline a stage runs in, from its spec and broker
 * credentials. The risk-manager and the execution-engine both derive client_order_ids from it,
 * so they must take it from here.
 */
import type { TradingPipeline } from "../core/spec/index.ts";
import { orderIdScope } from "./core/client-order-id.ts";

/** pipelineOrderIdScope: account (API key id), namespace, name and symbols of the pipeline. */
export function pipelineOrderIdScope(pipeline: TradingPipeline, accountKeyId: string): string {
  return orderIdScope({
    account: accountKeyId,
    name: pipeline.metadata.name,
    symbols: pipeline.spec.symbols,
    ...(pipeline.metadata.namespace !== undefined
      ? { namespace: pipeline.metadata.namespace }
      : {}),
  });
}
