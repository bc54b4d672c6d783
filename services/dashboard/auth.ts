/**
 * auth: who may see the dashboard and who may act on it.
 *
 * - Tokens: a file of lines `<role> <name> <sha256-hex-of-token>` (viewer or operator); only the
 *   hash is stored, and a presented token is hashed and compared in constant time with every
 *   entry (timingSafeEqual), so neither the file nor the timing gives a token away.
 * - Browser: POST /api/login with the token → an HttpOnly SameSite=Strict session cookie holding
 *   a random session id; tokens never travel in URLs.
 * - Failed logins: at most LOGIN_FAILURES_PER_MINUTE per client address, then 429.
 * - Trusted proxy: a header naming the user (and optionally the role) is believed only from
 *   allow-listed proxy addresses (an OIDC proxy in front of the dashboard).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export type Role = "viewer" | "operator";
export interface User {
  name: string;
  role: Role;
}

export interface TokenEntry extends User {
  hash: Buffer;
}

export interface AuthConfig {
  tokens: TokenEntry[];
  trustedProxy?: { userHeader: string; roleHeader?: string; addresses: string[] };
}

export const SESSION_COOKIE = "tp_dashboard_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const LOGIN_FAILURES_PER_MINUTE = 5;

export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** parseTokenFile reads `<role> <name> <sha256hex>` lines; # starts a comment. */
export function parseTokenFile(text: string, source: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const [role, name, hex, extra] = line.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (extra !== undefined || !hex)
      throw new Error(`${where}: expected "<role> <name> <sha256-hex>"`);
    if (role !== "viewer" && role !== "operator") {
      throw new Error(`${where}: role must be viewer or operator, got "${role}"`);
    }
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new Error(`${where}: the hash must be 64 hex digits (sha256)`);
    out.push({ role, name: name!, hash: Buffer.from(hex, "hex") });
  });
  return out;
}

export function loadTokenFile(path: string): TokenEntry[] {
  return parseTokenFile(readFileSync(path, "utf8"), path);
}

/** userForToken compares against every entry (no early exit) in constant time per entry. */
export function userForToken(tokens: TokenEntry[], token: string): User | undefined {
  const presented = hashToken(token);
  let found: User | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(t.hash, presented) && !found) found = { name: t.name, role: t.role };
  }
  return found;
}

/** Sessions in memory: a restart logs everyone out, which is the safe direction. */
export class Sessions {
  private readonly byId = new Map<string, User & { expires: number }>();
  private readonly failures = new Map<string, number[]>();

  create(user: User, now = Date.now()): string {
    const id = randomBytes(32).toString("base64url");
    this.byId.set(id, { ...user, expires: now + SESSION_TTL_MS });
    return id;
  }

  get(id: string | undefined, now = Date.now()): User | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.expires < now) {
      this.byId.delete(id);
      return undefined;
    }
    return { name: s.name, role: s.role };
  }

  drop(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  /** loginAllowed is false once `client` failed LOGIN_FAILURES_PER_MINUTE times in a minute. */
  loginAllowed(client: string, now = Date.now()): boolean {
    const recent = (this.failures.get(client) ?? []).filter((t) => t > now - 60_000);
    this.failures.set(client, recent);
    return recent.length < LOGIN_FAILURES_PER_MINUTE;
  }

  loginFailed(client: string, now = Date.now()): void {
    this.failures.set(client, [...(this.failures.get(client) ?? []), now]);
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** isLoopback: the addresses on which the dashboard may run without auth. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}
