/** The execution-engine's pure core: createExecutionState, stepExecution, client_order_id. */
export {
  CLIENT_ORDER_ID_MAX_LENGTH,
  clientOrderIdFor,
  type OrderIdScopeParts,
  orderIdScope,
} from "./client-order-id.ts";
export { eventsForRisk, fillForTracker } from "./downstream.ts";
export {
  type CallWindow,
  callsInWindow,
  createCallWindow,
  nextTokenAtNs,
  record,
  tryTake,
} from "./rate-limit.ts";
export {
  compileExecutionConfig,
  createExecutionState,
  type ExecutionState,
  findOrder,
  restoreExecutionState,
} from "./state.ts";
export { stepExecution } from "./step.ts";
export { canTransition, isTerminal, statusFromBroker } from "./transitions.ts";
export * from "./types.ts";
