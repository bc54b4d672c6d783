/**
 * Diagnostics channels of the signal-bridge stage (node:diagnostics_channel). Nothing is timed
 * or published unless a subscriber is attached.
 *
 * - `tradepipe:sb.timing`: `{ symbol, indicatorsNs, inferenceNs }` per quote handled: the core's
 *   indicator update and rules, and the model call (-1 when the model was not needed). The
 *   object is reused: read it in the subscriber, don't keep it.
 * - `tradepipe:sb.model`: a model replaced at run time or refused (model-reload.ts `SwapOutcome`:
 *   `{ key, cause, result: "swapped" | "refused", path, label | reason, previous | kept }`).
 */
import { channel } from "node:diagnostics_channel";

export const sbTimingChannel = channel("tradepipe:sb.timing");
export const sbModelChannel = channel("tradepipe:sb.model");

export interface SignalTiming {
  symbol: string;
  indicatorsNs: number;
  inferenceNs: number;
}
