/**
 * publishFields: how the hot path's codec modules publish (market-data/quote-wire.ts,
 * signal-bridge/signal-wire.ts, risk-manager/wire.ts). `value` is a copy of the message the
 * publisher will not change again; on the in-process bus it is delivered as BusMessage.value and
 * its bytes are made only if a subscriber reads `payload` (so in the fused pipeline a quote, a
 * signal and an intent are neither encoded nor decoded); on the other transports it is encoded
 * at once and only the bytes travel.
 */
import { InProcBus } from "./inproc.ts";
import type { Bus } from "./types.ts";

export function publishFields<T>(
  bus: Bus,
  topic: string,
  value: T,
  encode: (value: T) => Uint8Array,
): number {
  if (bus instanceof InProcBus) return bus.publishEncoded(topic, value, encode);
  return bus.publish(topic, encode(value));
}
