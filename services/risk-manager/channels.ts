/**
 * Diagnostics channels of the risk-manager stage (node:diagnostics_channel). Nothing is timed or
 * published unless a subscriber is attached.
 *
 * - `tradepipe:risk.decision`: `{ symbol, ns, approved }` per signal decided: the time the core
 *   took (the six checks, breaker and gates). The object is reused: read it in the subscriber,
 *   don't keep it.
 */
import { channel } from "node:diagnostics_channel";

export const riskDecisionChannel = channel("tradepipe:risk.decision");

export interface RiskDecisionTiming {
  symbol: string;
  ns: number;
  approved: boolean;
}
