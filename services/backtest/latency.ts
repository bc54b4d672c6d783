/**
 * LatencyModel: how long things take between us and the venue, in nanoseconds of simulated time.
 * - feed: exchange timestamp → our receive time. A recorded event carries both and is replayed
 *   as recorded; otherwise this constant is added.
 * - submit/cancel entry: our send → the order (or cancel) reaches the venue's book.
 * - submit/cancel response: the venue acts → we see its answer (REST reply and trade updates).
 * `jitterNs` adds a uniform [0, jitter) draw from the run's seeded generator to every order-path
 * latency (never to the feed, which must stay FIFO).
 */
export interface LatencyModel {
  feedNs: bigint;
  submitEntryNs: bigint;
  submitResponseNs: bigint;
  cancelEntryNs: bigint;
  cancelResponseNs: bigint;
  jitterNs: bigint;
}

const MS = 1_000_000n;

/** DEFAULT_LATENCY: a retail-grade path to Alpaca (feed 5 ms, order round trip ~40 ms). */
export const DEFAULT_LATENCY: LatencyModel = {
  feedNs: 5n * MS,
  submitEntryNs: 20n * MS,
  submitResponseNs: 20n * MS,
  cancelEntryNs: 20n * MS,
  cancelResponseNs: 20n * MS,
  jitterNs: 0n,
};

/** parseLatencyMs reads "feed=5,submit=20/20,cancel=20/20,jitter=2" (milliseconds). */
export function parseLatencyMs(text: string, base: LatencyModel = DEFAULT_LATENCY): LatencyModel {
  const out = { ...base };
  const ms = (v: string, what: string): bigint => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--latency ${what}: "${v}" is not a number of milliseconds >= 0`);
    return BigInt(Math.round(n * 1e6));
  };
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const [key, value = ""] = part.split("=").map((s) => s.trim());
    const [entry = "", response = entry] = value.split("/");
    switch (key) {
      case "feed":
        out.feedNs = ms(value, key);
        break;
      case "submit":
        out.submitEntryNs = ms(entry, key);
        out.submitResponseNs = ms(response, key);
        break;
      case "cancel":
        out.cancelEntryNs = ms(entry, key);
        out.cancelResponseNs = ms(response, key);
        break;
      case "jitter":
        out.jitterNs = ms(value, key);
        break;
      default:
        throw new Error(`--latency: unknown part "${key}" (feed, submit, cancel, jitter)`);
    }
  }
  return out;
}
