/**
 * stages: the five stages under their process names, in pipeline order, and who listens to
 * whom. One table serves the local supervisor, the fused mode, the systemd renderer and the
 * operator, so a stage added or rewired here is rewired everywhere.
 */
import { STAGE_NAMES, type StageName } from "../core/spec/index.ts";

/** StageProcess is a stage's name as a process, unit, container or metric label. */
export type StageProcess =
  | "market-data"
  | "signal-bridge"
  | "risk-manager"
  | "execution-engine"
  | "position-tracker";

export const STAGE_PROCESS: Readonly<Record<StageName, StageProcess>> = {
  marketData: "market-data",
  signalBridge: "signal-bridge",
  riskManager: "risk-manager",
  executionEngine: "execution-engine",
  positionTracker: "position-tracker",
};

/** STAGE_PROCESSES lists the process names in pipeline order. */
export const STAGE_PROCESSES: readonly StageProcess[] = STAGE_NAMES.map((n) => STAGE_PROCESS[n]);

export function specNameOf(process: StageProcess): StageName {
  const found = STAGE_NAMES.find((n) => STAGE_PROCESS[n] === process);
  if (!found) throw new Error(`unknown stage ${process}`);
  return found;
}

export function isStageProcess(name: string): name is StageProcess {
  return (STAGE_PROCESSES as readonly string[]).includes(name);
}

/**
 * UPSTREAMS says whose publications each stage subscribes to. The data path is
 * market-data → signal-bridge → risk-manager → execution-engine; the position-tracker feeds
 * positions and reconciliation back to the risk-manager, and the risk-manager's control
 * messages (kill switch, halt) reach the execution-engine.
 */
export const UPSTREAMS: Readonly<Record<StageProcess, readonly StageProcess[]>> = {
  "market-data": [],
  "signal-bridge": ["market-data"],
  "risk-manager": ["signal-bridge", "position-tracker", "execution-engine", "market-data"],
  "execution-engine": ["risk-manager", "market-data"],
  "position-tracker": ["execution-engine", "market-data", "risk-manager"],
};

/** START_ORDER: a stage starts after the stages it listens to on the data path. */
export const START_AFTER: Readonly<Record<StageProcess, StageProcess | undefined>> = {
  "market-data": undefined,
  "signal-bridge": "market-data",
  "risk-manager": "signal-bridge",
  "execution-engine": "risk-manager",
  "position-tracker": undefined,
};
