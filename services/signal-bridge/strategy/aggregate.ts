/**
 * Aggregation: the decisions of every strategy on one quote of a symbol become at most one
 * signal for the risk-manager. The rules, in order:
 *
 * 1. Budget. A voting strategy with `budgetShares` > 0 whose decision would take its intended
 *    position in the symbol (the shares of the signals it took part in, signed) beyond the
 *    budget does not vote on this quote.
 * 2. Weighted vote. Each remaining voting strategy with a BUY or SELL adds
 *    weight × direction × strength to `net` and its weight to `total`. No voter: HOLD "no-vote";
 *    net 0: HOLD "tie". Otherwise the direction is the sign of net and the confidence is
 *    |net| / total (one strategy alone: its own strength).
 * 3. Veto. A strategy with role `veto` never votes; its decision on the same quote in the
 *    opposite direction blocks the signal (HOLD "vetoed", `vetoedBy`).
 * 4. Threshold. Confidence below `minConfidence`: HOLD "low-confidence".
 * 5. Cool-down. Less than `signalCooldownNs` of event time since the symbol's last signal:
 *    HOLD "cool-down" (nothing is credited). A signal starts the symbol's cool-down.
 * 6. Signal. The leader is the agreeing voter with the largest weight × strength (first in spec
 *    order on a tie); its target quantity and limit price, if set, are the signal's. Each
 *    agreeing voter is credited with the shares it asked for (its target, else `defaultQty`) at
 *    the mid: that intended position is what rule 1 and the P&L attribution read.
 *
 * Pure and O(strategies) per quote, no allocation.
 */
import type { Decision, Direction } from "./api.ts";

export interface AggregationRules {
  /** Confidence (0..1) the aggregated decision needs to become a signal. */
  readonly minConfidence: number;
  /** Shares of a decision without a target (the pipeline's order quantity). */
  readonly defaultQty: number;
  /** Event time after a symbol's signal during which it gets no other signal (0n or absent: none). */
  readonly signalCooldownNs?: bigint;
}

/** SymbolMemory is what the aggregation remembers of one symbol between its quotes. */
export interface SymbolMemory {
  /** Event time of the symbol's last signal, -1n before its first. */
  lastSignalNs: bigint;
}

export type OutcomeReason =
  | "signal"
  | "no-vote"
  | "tie"
  | "vetoed"
  | "low-confidence"
  | "cool-down";

/** Outcome is one quote's aggregated decision (reused: valid until the next quote). */
export interface Outcome {
  symbol: string;
  timeNs: bigint;
  direction: Direction;
  confidence: number;
  /** The leader's target quantity, 0 for the pipeline's default. */
  targetQty: number;
  /** The leader's limit price, 0 for a market order. */
  limitPrice: number;
  /** Slot index of the leading strategy, −1 without a signal. */
  leader: number;
  /** Slot index of the vetoing strategy, −1 when none vetoed. */
  vetoedBy: number;
  reason: OutcomeReason;
}

/** VotingSlot is one strategy's part in one symbol's aggregation. */
export interface VotingSlot {
  readonly weight: number;
  readonly role: "vote" | "veto";
  /** Largest intended position in shares, 0 for no budget. */
  readonly budgetShares: number;
  readonly defaultQty: number;
  decision: Decision;
  /** Intended position in shares from the signals this strategy took part in. */
  position: number;
  /** Cash of those intended trades at the mid (position × mid + cash is its P&L). */
  cash: number;
}

function sharesOf(v: VotingSlot): number {
  return v.decision.targetQty > 0 ? v.decision.targetQty : v.defaultQty;
}

function withinBudget(v: VotingSlot): boolean {
  if (v.budgetShares <= 0) return true;
  return Math.abs(v.position + v.decision.direction * sharesOf(v)) <= v.budgetShares;
}

/** aggregate applies the rules above to `votes` and writes the result into `out`. */
export function aggregate(
  rules: AggregationRules,
  symbol: string,
  timeNs: bigint,
  mid: number,
  votes: readonly VotingSlot[],
  out: Outcome,
  memory: SymbolMemory,
): Outcome {
  out.symbol = symbol;
  out.timeNs = timeNs;
  out.direction = 0;
  out.confidence = 0;
  out.targetQty = 0;
  out.limitPrice = 0;
  out.leader = -1;
  out.vetoedBy = -1;
  let net = 0;
  let total = 0;
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i]!;
    const d = v.decision;
    if (d.direction === 0 || v.role !== "vote" || !withinBudget(v)) continue;
    net += v.weight * d.direction * d.strength;
    total += v.weight;
  }
  if (total === 0) {
    out.reason = "no-vote";
    return out;
  }
  if (net === 0) {
    out.reason = "tie";
    return out;
  }
  const direction: Direction = net > 0 ? 1 : -1;
  out.confidence = Math.abs(net) / total;
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i]!;
    if (v.role === "veto" && v.decision.direction === -direction) {
      out.vetoedBy = i;
      out.reason = "vetoed";
      return out;
    }
  }
  if (out.confidence < rules.minConfidence) {
    out.reason = "low-confidence";
    return out;
  }
  const cooldown = rules.signalCooldownNs ?? 0n;
  if (cooldown > 0n && memory.lastSignalNs >= 0n && timeNs - memory.lastSignalNs < cooldown) {
    out.reason = "cool-down";
    return out;
  }
  memory.lastSignalNs = timeNs;
  let best = -1;
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i]!;
    const d = v.decision;
    if (d.direction !== direction || v.role !== "vote" || !withinBudget(v)) continue;
    if (best < 0 || v.weight * d.strength > votes[best]!.weight * votes[best]!.decision.strength) {
      best = i;
    }
    const shares = direction * sharesOf(v);
    v.position += shares;
    v.cash -= shares * mid;
  }
  const lead = votes[best]!.decision;
  out.direction = direction;
  out.leader = best;
  out.targetQty = lead.targetQty;
  out.limitPrice = lead.limitPrice;
  out.reason = "signal";
  return out;
}
