/**
 * registry: the stage definitions by process name, loaded on demand so a stage process loads
 * only its own stage's code (the ONNX runtime only in the signal-bridge, for example).
 */
import type { StageDefinition } from "./context.ts";
import type { StageProcess } from "./stages.ts";

const LOADERS: Record<StageProcess, () => Promise<{ stage: StageDefinition }>> = {
  "market-data": () => import("../market-data/stage.ts"),
  "signal-bridge": () => import("../signal-bridge/stage.ts"),
  "risk-manager": () => import("../risk-manager/stage.ts"),
  "execution-engine": () => import("../execution-engine/stage.ts"),
  "position-tracker": () => import("../position-tracker/stage.ts"),
};

export async function loadStage(name: StageProcess): Promise<StageDefinition> {
  return (await LOADERS[name]()).stage;
}
