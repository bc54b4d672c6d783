/** The risk-manager's pure core: createRiskState, stepRisk and the persisted-state helpers. */
export { createBreaker } from "./breaker.ts";
export { approvalForExecution } from "./downstream.ts";
export { proposalFromSignal, type SignalForRisk } from "./proposal.ts";
export {
  compileRiskLimits,
  createRiskState,
  exportRiskState,
  type OpenOrderForRisk,
  type RiskState,
  restoreRiskState,
} from "./state.ts";
export { type RiskStatus, riskStatus } from "./status.ts";
export { stepRisk } from "./step.ts";
export * from "./types.ts";
export { var99PrePost } from "./var.ts";
