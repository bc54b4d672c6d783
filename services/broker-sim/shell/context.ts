/**
 * context: everything a request or stream handler of the simulator needs, in one object.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Fixed } from "../../core/money.ts";
import type { RateLimiter } from "../http/ratelimit.ts";
import type { Engine } from "./engine.ts";
import type { Faults } from "./faults.ts";

export interface Keys {
  keyId: string;
  secretKey: string;
}

/**
 * AdminAccess: who may use /admin/*. `keys` (local default): the API key pair, as for the rest.
 * `token`: only `Authorization: Bearer <token>`, a credential of its own that the stages never
 * hold (the operator's setting in a cluster). `off`: the admin API answers 404.
 */
export type AdminAccess = { kind: "keys" } | { kind: "token"; token: string } | { kind: "off" };

export interface StreamControl {
  /** disconnect closes open stream connections of a kind ("trade", "data" or both). */
  disconnect(kind: "trade" | "data" | "all"): number;
  /** Open connections now, and every connection accepted since the start (`opened`). */
  counts(): { trade: number; data: number; opened: { trade: number; data: number } };
}

export interface SimContext {
  engine: Engine;
  faults: Faults;
  tradingLimiter: RateLimiter;
  dataLimiter: RateLimiter;
  keys: Keys;
  admin: AdminAccess;
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

/** isAdminAuthorized checks a request to /admin/* against the admin access setting. */
export function isAdminAuthorized(
  ctx: SimContext,
  authorization: unknown,
  keyId: unknown,
  secret: unknown,
): boolean {
  const admin = ctx.admin;
  if (admin.kind === "off") return false;
  if (admin.kind === "keys") return isAuthorized(ctx, keyId, secret);
  if (typeof authorization !== "string" || !authorization.startsWith("Bearer ")) return false;
  const given = createHash("sha256").update(authorization.slice(7)).digest();
  const want = createHash("sha256").update(admin.token).digest();
  return timingSafeEqual(given, want);
}

/** isAuthorized checks an Alpaca key pair against the one the simulator accepts. */
export function isAuthorized(ctx: SimContext, keyId: unknown, secret: unknown): boolean {
  return keyId === ctx.keys.keyId && secret === ctx.keys.secretKey;
}
