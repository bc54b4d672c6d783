/**
 * reconcile compares the tracker's positions with the broker's (/v2/positions) and lists every
 * symbol whose quantities differ, ours and theirs, sorted by symbol. A symbol flat on one side
 * and absent on the other is no break. With `own` (the pipeline's universe), a broker position
 * in a symbol outside it that we never held is another pipeline's on a shared account: no break.
 */
import { type Fixed, ZERO } from "../../core/money.ts";
import type { Position } from "./position.ts";
import type { BrokerPosition, ReconciliationBreak } from "./types.ts";

export function findBreaks(
  ours: ReadonlyMap<string, Position>,
  theirs: readonly BrokerPosition[],
  own: ReadonlySet<string> | null = null,
): ReconciliationBreak[] {
  const broker = new Map<string, Fixed>();
  for (const p of theirs) {
    if (own !== null && !own.has(p.symbol) && !ours.has(p.symbol)) continue;
    broker.set(p.symbol, (broker.get(p.symbol) ?? ZERO) + p.qty);
  }
  const symbols = new Set<string>([...broker.keys()]);
  for (const [symbol, p] of ours) if (p.qty !== ZERO) symbols.add(symbol);
  const breaks: ReconciliationBreak[] = [];
  for (const symbol of [...symbols].sort()) {
    const o = ours.get(symbol)?.qty ?? ZERO;
    const t = broker.get(symbol) ?? ZERO;
    if (o !== t) breaks.push({ symbol, ours: o, theirs: t });
  }
  return breaks;
}
