/**
 * faults: what the simulator can be told to do wrong, set at start (options.faults) or at run
 * time (POST /admin/faults). Random faults draw from their own seeded generator so a fault run is
 * reproducible too.
 */
import { createPrng, type Prng } from "../core/prng.ts";

export interface FaultConfig {
  /** latencyMs is added before every REST answer (plus up to latencyJitterMs more). */
  latencyMs: number;
  latencyJitterMs: number;
  /** errorRate is the probability that a REST request gets a 5xx (status errorStatus). */
  errorRate: number;
  errorStatus: number;
  /** fail5xxNext answers the next N REST requests with errorStatus. */
  fail5xxNext: number;
  /** burst429Next answers the next N REST requests with 429. */
  burst429Next: number;
  /** dropRate / duplicateRate / reorderRate apply to trade_updates messages. */
  dropRate: number;
  duplicateRate: number;
  reorderRate: number;
  /** marketDataDropRate drops market-data messages. */
  marketDataDropRate: number;
  /** rejectNext: the next N accepted orders are rejected right after POST returns (event "rejected"). */
  rejectNext: number;
}

export const NO_FAULTS: FaultConfig = {
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  errorStatus: 500,
  fail5xxNext: 0,
  burst429Next: 0,
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  marketDataDropRate: 0,
  rejectNext: 0,
};

const RATE_KEYS = [
  "errorRate",
  "dropRate",
  "duplicateRate",
  "reorderRate",
  "marketDataDropRate",
] as const;
const COUNT_KEYS = [
  "latencyMs",
  "latencyJitterMs",
  "fail5xxNext",
  "burst429Next",
  "rejectNext",
] as const;

/** parseFaults validates a partial fault config; returns the problems by field name. */
export function parseFaults(
  raw: unknown,
): { ok: true; value: Partial<FaultConfig> } | { ok: false; error: string } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { ok: false, error: "faults must be a JSON object" };
  const out: Partial<FaultConfig> = {};
  for (const [k, v] of Object.entries(raw)) {
    if ((RATE_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== "number" || !(v >= 0 && v <= 1))
        return { ok: false, error: `${k}: expected a probability in [0, 1]` };
      out[k as (typeof RATE_KEYS)[number]] = v;
    } else if ((COUNT_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
        return { ok: false, error: `${k}: expected a non-negative integer` };
      out[k as (typeof COUNT_KEYS)[number]] = v;
    } else if (k === "errorStatus") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 500 || v > 599)
        return { ok: false, error: "errorStatus: expected 500..599" };
      out.errorStatus = v;
    } else {
      return { ok: false, error: `unknown fault "${k}"` };
    }
  }
  return { ok: true, value: out };
}

export type RestFault =
  | { kind: "none"; delayMs: number }
  | { kind: "status"; status: number; delayMs: number };

/** Faults holds the live configuration and decides, request by request, what goes wrong. */
export class Faults {
  config: FaultConfig;
  private prng: Prng;
  /** stalledUntil (wall ms) per stream kind: no data is sent until then. */
  stalledUntil = { trade: 0, data: 0 };

  constructor(seed: number, initial: Partial<FaultConfig> = {}) {
    this.config = { ...NO_FAULTS, ...initial };
    this.prng = createPrng(seed, "faults");
  }

  reseed(seed: number): void {
    this.prng = createPrng(seed, "faults");
  }

  set(patch: Partial<FaultConfig>): void {
    this.config = { ...this.config, ...patch };
  }

  clear(): void {
    this.config = { ...NO_FAULTS };
    this.stalledUntil = { trade: 0, data: 0 };
  }

  rest(): RestFault {
    const c = this.config;
    const delayMs = c.latencyMs + (c.latencyJitterMs > 0 ? this.prng.int(0, c.latencyJitterMs) : 0);
    if (c.burst429Next > 0) {
      c.burst429Next--;
      return { kind: "status", status: 429, delayMs };
    }
    if (c.fail5xxNext > 0) {
      c.fail5xxNext--;
      return { kind: "status", status: c.errorStatus, delayMs };
    }
    if (c.errorRate > 0 && this.prng.next() < c.errorRate)
      return { kind: "status", status: c.errorStatus, delayMs };
    return { kind: "none", delayMs };
  }

  /** tradeUpdate decides the fate of one trade_updates message. */
  tradeUpdate(): "drop" | "duplicate" | "reorder" | "send" {
    const c = this.config;
    if (c.dropRate > 0 && this.prng.next() < c.dropRate) return "drop";
    if (c.duplicateRate > 0 && this.prng.next() < c.duplicateRate) return "duplicate";
    if (c.reorderRate > 0 && this.prng.next() < c.reorderRate) return "reorder";
    return "send";
  }

  /** takeReject tells whether the order just accepted must be rejected (counts rejectNext down). */
  takeReject(): boolean {
    if (this.config.rejectNext <= 0) return false;
    this.config.rejectNext--;
    return true;
  }

  dropMarketData(): boolean {
    const r = this.config.marketDataDropRate;
    return r > 0 && this.prng.next() < r;
  }

  stall(kind: "trade" | "data", ms: number, nowMs: number): void {
    this.stalledUntil[kind] = nowMs + ms;
  }

  isStalled(kind: "trade" | "data", nowMs: number): boolean {
    return nowMs < this.stalledUntil[kind];
  }
}
