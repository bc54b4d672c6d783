/**
 * publishFields: how the hot path's codec modules publish (market-data/quote-wire.ts,
 * signal-bridge/signal-wire.ts, risk-manager/wire.ts). On the in-process bus `copy(fields)` (a
 * copy the publisher will not change again: `fields` is usually reused by its next message) is
 * delivered as BusMessage.value and its bytes are made only if a subscriber reads `payload`, so
 * in the fused pipeline a quote, a signal and an intent are neither encoded nor decoded; on the
 * other transports `fields` is encoded at once, nothing is copied, and only the bytes travel.
 */
import { InProcBus } from "./inproc.ts";
import type { Bus } from "./types.ts";

export function publishFields<T>(
  bus: Bus,
  topic: string,
  fields: T,
  encode: (fields: T) => Uint8Array,
  copy: (fields: T) => T,
): number {
  if (bus instanceof InProcBus) return bus.publishEncoded(topic, copy(fields), encode);
  return bus.publish(topic, encode(fields));
}
