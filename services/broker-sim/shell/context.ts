/**
 * context: everything a request or stream handler of the simulator needs, in one object.
 */
import type { Fixed } from "../../core/money.ts";
import type { RateLimiter } from "../http/ratelimit.ts";
import type { Engine } from "./engine.ts";
import type { Faults } from "./faults.ts";

export interface Keys {
  keyId: string;
  secretKey: string;
}

export interface StreamControl {
  /** disconnect closes open stream connections of a kind ("trade", "data" or both). */
  disconnect(kind: "trade" | "data" | "all"): number;
  counts(): { trade: number; data: number };
}

export interface SimContext {
  engine: Engine;
  faults: Faults;
  tradingLimiter: RateLimiter;
  dataLimiter: RateLimiter;
  keys: Keys;
  shortingEnabled: boolean;
  /** lastday holds each symbol's reference price for change_today (the price at start). */
  lastday: Map<string, Fixed>;
  streams: StreamControl;
  /** orderRequests logs every order POST/PATCH received, refused ones included (admin state). */
  orderRequests: OrderRequestRecord[];
  /** onChange hears that a request may have changed the account (the state file saves then). */
  onChange?: () => void;
}

export interface OrderRequestRecord {
  kind: "submit" | "replace";
  client_order_id: string | null;
  status: number;
  order_id: string | null;
  at: string;
}

/** isAuthorized checks an Alpaca key pair against the one the simulator accepts. */
export function isAuthorized(ctx: SimContext, keyId: unknown, secret: unknown): boolean {
  return keyId === ctx.keys.keyId && secret === ctx.keys.secretKey;
}
