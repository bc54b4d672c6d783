/**
 * Names fixed by the TradingPipeline API: its group, version and kind, the stage names, the
 * condition types and the phases. Every rendering (local supervisor, operator, systemd) uses these
 * so that a renamed stage or condition is a compile error, not a silent mismatch.
 */
export const API_GROUP = "tradepipe.io";
export const API_VERSION_NAME = "v1alpha1";
export const API_VERSION = `${API_GROUP}/${API_VERSION_NAME}`;
export const KIND = "TradingPipeline";
export const LIST_KIND = "TradingPipelineList";
export const PLURAL = "tradingpipelines";
export const SINGULAR = "tradingpipeline";
export const SHORT_NAMES = ["tp"] as const;
export const CATEGORIES = ["tradepipe"] as const;

/** STAGE_NAMES lists the five stages in pipeline order (data flows from first to last). */
export const STAGE_NAMES = [
  "marketData",
  "signalBridge",
  "riskManager",
  "executionEngine",
  "positionTracker",
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** CONDITION_TYPES are the status.conditions types the operator maintains. */
export const CONDITION_TYPES = [
  "Ready",
  "DatabaseReady",
  "StagesReady",
  "Trading",
  "KillSwitch",
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** PHASES are the values of status.phase, a one-word summary of the conditions. */
export const PHASES = [
  "Pending",
  "Provisioning",
  "Running",
  "Halted",
  "Degraded",
  "Failed",
  "Terminating",
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * MAX_NAME_LENGTH bounds metadata.name so that every child object name derived from it
 * (`<name>-execution-engine-<hash>`, `<name>-db-rw`, ...) stays within Kubernetes' 63-character
 * label limit.
 */
export const MAX_NAME_LENGTH = 30;
