/**
 * rate-limit is a token bucket on event time, in exact integers: a token is UNIT units and the
 * bucket gains `perMinute` units per nanosecond, so 60 s refill exactly `perMinute` tokens.
 * The bucket starts full. With capacity B and rate R/min, any 60 s window holds at most B + R
 * sends (20 + 180 = Alpaca's 200/min).
 */
import { TradepipeError } from "../../core/errors.ts";
import { min } from "../../core/money.ts";

const UNIT = 60_000_000_000n;

export interface TokenBucket {
  units: bigint;
  capacityUnits: bigint;
  perNs: bigint;
  lastNs: bigint;
}

export function createTokenBucket(perMinute: number, burst: number): TokenBucket {
  if (!Number.isInteger(perMinute) || perMinute < 1)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `maxOrdersPerMinute: must be a positive integer, got ${perMinute}`,
    );
  if (!Number.isInteger(burst) || burst < 1)
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `rateLimitBurst: must be a positive integer, got ${burst}`,
    );
  const capacityUnits = BigInt(burst) * UNIT;
  return { units: capacityUnits, capacityUnits, perNs: BigInt(perMinute), lastNs: -1n };
}

function refill(b: TokenBucket, nowNs: bigint): void {
  if (b.lastNs < 0n) {
    b.lastNs = nowNs;
    return;
  }
  if (nowNs <= b.lastNs) return;
  const u = b.units + (nowNs - b.lastNs) * b.perNs;
  b.units = min(u, b.capacityUnits);
  b.lastNs = nowNs;
}

/** tryTake takes one token at `nowNs`; false when the bucket is empty. */
export function tryTake(b: TokenBucket, nowNs: bigint): boolean {
  refill(b, nowNs);
  if (b.units < UNIT) return false;
  b.units -= UNIT;
  return true;
}

/** nextTokenAtNs is the earliest event time at which tryTake will succeed. */
export function nextTokenAtNs(b: TokenBucket, nowNs: bigint): bigint {
  refill(b, nowNs);
  if (b.units >= UNIT) return nowNs;
  return nowNs + (UNIT - b.units + b.perNs - 1n) / b.perNs;
}
