/** The position-tracker's pure core: createPositionState, stepPositions, reconciliation. */
export { eventForRisk } from "./downstream.ts";
export { createDrawdown, drawdownOf, observeEquity } from "./drawdown.ts";
export { applyFill, averageCost, createPosition, markTo, type Position } from "./position.ts";
export { findBreaks } from "./reconcile.ts";
export {
  canTrade,
  createPositionState,
  equityOf,
  type PositionState,
  restorePositionState,
  snapshotOf,
} from "./state.ts";
export { stepPositions } from "./step.ts";
export * from "./types.ts";
