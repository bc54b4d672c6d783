/**
 * phase: the one-word summary of a TradingPipeline's conditions shown by `kubectl get tp`.
 * Conditions are the API; the phase is derived from them and never read back.
 */
import type { Condition, ConditionType, Phase } from "../../services/core/spec/index.ts";
import { findCondition } from "./conditions.ts";

export interface PhaseInput {
  conditions: readonly Condition[];
  deleting: boolean;
  /** True when no child workload has been observed yet. */
  fresh: boolean;
  /** The phase before this evaluation: a pipeline that ran and lost readiness is Degraded. */
  previous?: Phase | undefined;
}

/** derivePhase: Terminating > Failed > Halted > Running > Degraded > Provisioning > Pending. */
export function derivePhase(input: PhaseInput): Phase {
  if (input.deleting) return "Terminating";
  const status = (t: ConditionType) => findCondition(input.conditions, t)?.status;
  const reason = (t: ConditionType) => findCondition(input.conditions, t)?.reason;
  if (reason("Ready") === "ReconcileFailed") return "Failed";
  if (status("KillSwitch") === "True") return "Halted";
  if (status("Ready") === "True") return "Running";
  if (input.fresh) return "Pending";
  const wasRunning = input.previous === "Running" || input.previous === "Degraded";
  return wasRunning ? "Degraded" : "Provisioning";
}
