/**
 * server: the dashboard over node:http. Routes, headers, auth and the push stream live here;
 * the figures come from data.ts. See README.md for what it serves and how it is secured.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type pg from "pg";
import type { TradingPipeline } from "../core/spec/index.ts";
import {
  type AuthConfig,
  isLoopback,
  parseCookies,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  Sessions,
  type User,
  userForToken,
} from "./auth.ts";
import * as data from "./data.ts";
import { equityPanel } from "./equity.ts";
import { BACKTEST_EQUITY_FILE, OverlayError, overlay } from "./overlay.ts";

export interface DashboardOptions {
  pool: pg.Pool;
  host: string;
  /** 0 picks a free port. */
  port: number;
  pipelineName: string;
  spec?: TradingPipeline["spec"];
  auth?: AuthConfig;
  /** Directory whose subdirectories hold `tradepipe backtest` outputs (tearsheet.html). */
  backtestDir?: string;
  /** How often the stream looks for new rows, in ms. */
  pollMs?: number;
  /** Heartbeat period of the stream, in ms. */
  heartbeatMs?: number;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  server: Server;
  /** Ends every open stream (the browsers reconnect); for tests of resuming. */
  dropStreams(): void;
  close(): Promise<void>;
}

const STATIC_DIR = new URL("./static/", import.meta.url);
const STATIC: Record<string, string> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** Tearsheets are static HTML with inline styles and SVG, never script: sandboxed. */
const TEARSHEET_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** startDashboard listens and serves; it refuses a non-loopback address without auth. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const authOn = Boolean(opts.auth && (opts.auth.tokens.length > 0 || opts.auth.trustedProxy));
  if (!authOn && !isLoopback(opts.host)) {
    throw new Error(
      `dashboard: refusing to listen on ${opts.host} without auth: give --tokens FILE (or a trusted proxy), or listen on 127.0.0.1`,
    );
  }
  const sessions = new Sessions();
  const streams = new Set<ServerResponse>();
  const log = opts.log ?? (() => {});
  const pollMs = opts.pollMs ?? 200;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const actionRequests = new Map<string, Promise<Record<string, unknown>>>();

  function userOf(req: IncomingMessage): User | undefined {
    if (!authOn) return { name: "local", role: "operator" };
    const proxy = opts.auth?.trustedProxy;
    if (proxy?.addresses.includes(normalizeAddress(req.socket.remoteAddress))) {
      const name = header(req, proxy.userHeader);
      if (name) {
        const role = proxy.roleHeader ? header(req, proxy.roleHeader) : undefined;
        return { name, role: role === "operator" ? "operator" : "viewer" };
      }
    }
    return sessions.get(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    if (path.startsWith("/api/")) res.setHeader("Cache-Control", "no-store");

    if (req.method === "GET" && path in STATIC) {
      const file = STATIC[path]!;
      res.setHeader("Content-Type", TYPES[file.split(".").pop()!]!);
      res.setHeader("Cache-Control", "no-cache");
      res.end(readFileSync(new URL(file, STATIC_DIR)));
      return;
    }
    if (path === "/api/login") return login(req, res);
    if (path === "/api/logout") {
      requirePost(req);
      requireSameOrigin(req);
      sessions.drop(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
      res.setHeader(
        "Set-Cookie",
        `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
      );
      return json(res, 200, { ok: true });
    }
    const user = userOf(req);
    if (path === "/api/me") {
      return json(res, 200, {
        user: user ?? null,
        authRequired: authOn,
        pipeline: opts.pipelineName,
        heartbeatMs,
      });
    }
    if (!user) throw new HttpError(401, "log in first");
    if (path === "/api/kill-switch") return killSwitch(req, res, user);
    if (path === "/api/pause") return pause(req, res, user);
    if (path === "/api/cancel-all") return cancelAll(req, res, user);
    if (req.method !== "GET") throw new HttpError(405, `${req.method} is not allowed on ${path}`);
    const q = url.searchParams;
    switch (path) {
      case "/api/summary":
        return json(res, 200, await data.summary(opts.pool, opts.pipelineName));
      case "/api/equity": {
        const width = intParam(q, "width", 800, 1, 4000);
        const alert = opts.spec?.positions?.drawdownAlertPct;
        return json(
          res,
          200,
          await equityPanel(opts.pool, width, alert === undefined ? null : Number(alert)),
        );
      }
      case "/api/positions":
        return json(res, 200, await data.positions(opts.pool));
      case "/api/fills": {
        const f = filterOf(q);
        const before = beforeParam(q);
        return json(
          res,
          200,
          await data.fillsPage(opts.pool, f, before, intParam(q, "limit", 100, 1, 1000)),
        );
      }
      case "/api/fills.csv": {
        const f = filterOf(q);
        res.writeHead(200, {
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": 'attachment; filename="fills.csv"',
        });
        for await (const chunk of data.fillsCsv(opts.pool, f)) res.write(chunk);
        res.end();
        return;
      }
      case "/api/orders": {
        const f = filterOf(q);
        const before = beforeParam(q);
        return json(
          res,
          200,
          await data.ordersPage(opts.pool, f.symbol, before, intParam(q, "limit", 100, 1, 1000)),
        );
      }
      case "/api/audit": {
        const id = q.get("clientOrderId");
        if (!id) throw new HttpError(400, "clientOrderId: required");
        return json(res, 200, await data.auditTrail(opts.pool, id));
      }
      case "/api/risk":
        return json(res, 200, await data.risk(opts.pool, opts.spec));
      case "/api/attribution":
        return json(res, 200, await data.attribution(opts.pool));
      case "/api/backtests":
        return json(res, 200, listBacktests(opts.backtestDir));
      case "/api/stream":
        return stream(req, res, user);
    }
    const overlayRun = /^\/api\/backtests\/([A-Za-z0-9._-]+)\/overlay$/.exec(path);
    if (overlayRun && opts.backtestDir && overlayRun[1] !== "." && overlayRun[1] !== "..") {
      const width = intParam(q, "width", 800, 1, 4000);
      const threshold = intParam(q, "thresholdBps", 100, 0, 100_000);
      try {
        return json(
          res,
          200,
          await overlay(opts.pool, opts.backtestDir, overlayRun[1]!, width, threshold),
        );
      } catch (err) {
        if (err instanceof OverlayError) throw new HttpError(404, err.message);
        throw err;
      }
    }
    const tearsheet = /^\/backtests\/([A-Za-z0-9._-]+)\/tearsheet\.html$/.exec(path);
    if (tearsheet && opts.backtestDir && tearsheet[1] !== "." && tearsheet[1] !== "..") {
      const file = join(resolve(opts.backtestDir), tearsheet[1]!, "tearsheet.html");
      if (existsSync(file)) {
        res.setHeader("Content-Security-Policy", TEARSHEET_CSP);
        res.setHeader("Content-Type", TYPES.html!);
        res.end(readFileSync(file));
        return;
      }
    }
    throw new HttpError(404, `no such page: ${path}`);
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requirePost(req);
    requireSameOrigin(req);
    const client = normalizeAddress(req.socket.remoteAddress);
    if (!sessions.loginAllowed(client)) {
      res.setHeader("Retry-After", "60");
      throw new HttpError(429, "too many failed logins; wait a minute");
    }
    const body = await readJson(req);
    const token = typeof body.token === "string" ? body.token : "";
    const user = authOn && token ? userForToken(opts.auth!.tokens, token) : undefined;
    if (!user) {
      sessions.loginFailed(client);
      log(`dashboard: failed login from ${client}`);
      throw new HttpError(401, "unknown token");
    }
    const id = sessions.create(user);
    res.setHeader(
      "Set-Cookie",
      `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
    );
    json(res, 200, { user });
  }

  /**
   * The operator actions (kill switch, pause new orders, cancel all open orders) share their
   * guards: POST, same origin, the operator role, JSON with an `X-Tradepipe-Confirm: <action>`
   * header (a form can send neither), the pipeline's name typed back, and idempotence by
   * requestId: a repeated request gets the first answer and changes nothing. The principal is
   * the session's user, never a field of the body.
   */
  async function operatorAction(
    req: IncomingMessage,
    res: ServerResponse,
    user: User,
    action: "kill-switch" | "pause" | "cancel-all",
    run: (body: Record<string, unknown>, by: string) => Promise<Record<string, unknown>>,
  ): Promise<void> {
    requirePost(req);
    requireSameOrigin(req);
    if (user.role !== "operator") throw new HttpError(403, `${action} needs the operator role`);
    if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
      throw new HttpError(415, "send application/json");
    }
    if (header(req, "x-tradepipe-confirm") !== action) {
      throw new HttpError(403, `missing X-Tradepipe-Confirm: ${action}`);
    }
    const body = await readJson(req);
    if (typeof body.requestId !== "string" || !/^[A-Za-z0-9-]{8,64}$/.test(body.requestId)) {
      throw new HttpError(400, "requestId: 8 to 64 letters, digits or dashes");
    }
    if (body.confirmPipeline !== opts.pipelineName) {
      throw new HttpError(400, `confirmPipeline: type the pipeline's name, "${opts.pipelineName}"`);
    }
    const key = `${action}:${user.name}:${body.requestId}`;
    let done = actionRequests.get(key);
    if (!done) {
      done = run(body, `dashboard:${user.name}`);
      actionRequests.set(key, done);
      done.catch(() => actionRequests.delete(key));
    }
    json(res, 200, { ...(await done), requestId: body.requestId });
  }

  const reasonOf = (body: Record<string, unknown>) =>
    typeof body.reason === "string" ? body.reason.slice(0, 500).trim() : "";

  /** POST /api/kill-switch {engaged, reason, confirmPipeline, requestId}: halts and cancels. */
  function killSwitch(req: IncomingMessage, res: ServerResponse, user: User): Promise<void> {
    return operatorAction(req, res, user, "kill-switch", async (body, by) => {
      if (typeof body.engaged !== "boolean")
        throw new HttpError(400, "engaged: must be true or false");
      const reason = reasonOf(body);
      if (body.engaged && !reason)
        throw new HttpError(400, "reason: say why the kill switch is engaged");
      log(
        `dashboard: kill switch ${body.engaged ? "engaged" : "released"} by ${user.name} (${user.role}): ${reason || "no reason"} [request ${body.requestId}]`,
      );
      const { rows } = await opts.pool.query("SELECT * FROM tp_set_kill_switch($1, $2, $3)", [
        body.engaged,
        reason || null,
        by,
      ]);
      return {
        engaged: Boolean(rows[0].kill_switch_engaged),
        reason: rows[0].kill_switch_reason ?? null,
        changedBy: rows[0].kill_switch_changed_by ?? null,
      };
    });
  }

  /** POST /api/pause {paused, reason, confirmPipeline, requestId}: no new orders approved. */
  function pause(req: IncomingMessage, res: ServerResponse, user: User): Promise<void> {
    return operatorAction(req, res, user, "pause", async (body, by) => {
      if (typeof body.paused !== "boolean")
        throw new HttpError(400, "paused: must be true or false");
      const reason = reasonOf(body);
      if (body.paused && !reason) throw new HttpError(400, "reason: say why new orders pause");
      log(
        `dashboard: new orders ${body.paused ? "paused" : "resumed"} by ${user.name}: ${reason || "no reason"} [request ${body.requestId}]`,
      );
      const { rows } = await opts.pool.query("SELECT * FROM tp_set_pause($1, $2, $3)", [
        body.paused,
        reason || null,
        by,
      ]);
      return {
        paused: Boolean(rows[0].paused),
        reason: rows[0].paused_reason ?? null,
        changedBy: rows[0].paused_changed_by ?? null,
      };
    });
  }

  /** POST /api/cancel-all {reason, confirmPipeline, requestId}: every open order, no halt. */
  function cancelAll(req: IncomingMessage, res: ServerResponse, user: User): Promise<void> {
    return operatorAction(req, res, user, "cancel-all", async (body, by) => {
      const reason = reasonOf(body);
      if (!reason) throw new HttpError(400, "reason: say why every open order is cancelled");
      log(
        `dashboard: cancel all open orders by ${user.name}: ${reason} [request ${body.requestId}]`,
      );
      const { rows } = await opts.pool.query("SELECT * FROM tp_request_cancel_all($1, $2)", [
        reason,
        by,
      ]);
      return {
        cancelAllRequest: String(rows[0].id),
        requestedBy: rows[0].requested_by,
        reason: rows[0].reason,
      };
    });
  }

  function requireSameOrigin(req: IncomingMessage): void {
    const site = header(req, "sec-fetch-site");
    if (site && site !== "same-origin")
      throw new HttpError(403, `cross-site request refused (${site})`);
    const origin = header(req, "origin");
    const host = header(req, "host");
    if (!origin || !host) throw new HttpError(403, "an Origin header is required");
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpError(403, "bad Origin header");
    }
    if (originHost !== host) throw new HttpError(403, `cross-origin request refused (${origin})`);
  }

  /**
   * GET /api/stream: server-sent events. `fill` events carry the fill's id as the event id, so
   * a browser reconnecting with Last-Event-ID gets every later fill once, in order; `state`
   * says something else changed (the page reloads its panels); `heartbeat` keeps the page's
   * stale-data banner away.
   */
  async function stream(req: IncomingMessage, res: ServerResponse, _user: User): Promise<void> {
    // Where to start: the browser's Last-Event-ID on a reconnect, else `after` (the newest
    // fill the page drew from its first blotter page, so nothing committed in between is
    // lost), else the newest fill now.
    const lastHeader = header(req, "last-event-id");
    const after = new URL(req.url ?? "/", "http://dashboard.invalid").searchParams.get("after");
    if (after !== null && !/^\d{1,15}$/.test(after)) {
      throw new HttpError(400, `after: must be a fill id, got "${after.slice(0, 40)}"`);
    }
    let last =
      lastHeader && /^\d+$/.test(lastHeader)
        ? Number(lastHeader)
        : after !== null
          ? Number(after)
          : null;
    if (last === null) {
      const r = await opts.pool.query("SELECT coalesce(max(id), 0)::bigint AS id FROM fills");
      last = Number(r.rows[0].id);
    }
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify({ after: last })}\n\n`);
    streams.add(res);
    let version = "";
    let busy = false;
    let lastWrite = Date.now();
    const tick = async () => {
      if (busy || res.writableEnded || res.destroyed) return;
      busy = true;
      try {
        for (;;) {
          const fills = await data.newFills(opts.pool, last!);
          for (const f of fills) {
            res.write(`id: ${f.id}\nevent: fill\ndata: ${JSON.stringify(f)}\n\n`);
            last = f.id;
          }
          if (fills.length) lastWrite = Date.now();
          if (fills.length < 1000) break;
        }
        const v = await data.stateVersion(opts.pool);
        if (v !== version) {
          if (version !== "") res.write("event: state\ndata: {}\n\n");
          version = v;
          lastWrite = Date.now();
        }
        if (Date.now() - lastWrite >= heartbeatMs) {
          res.write(
            `event: heartbeat\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`,
          );
          lastWrite = Date.now();
        }
      } catch (err) {
        log(`dashboard: stream poll failed: ${(err as Error).message}`);
      } finally {
        busy = false;
      }
    };
    // The listeners come first: a client may leave during the first (replaying) tick.
    const timer = setInterval(tick, pollMs);
    const stop = () => {
      clearInterval(timer);
      streams.delete(res);
    };
    req.on("close", stop);
    res.on("close", stop);
    if (res.destroyed) stop();
    await tick();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500)
        log(`dashboard: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      json(res, status, { error: status === 500 ? "internal error" : (err as Error).message });
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port, opts.host, () => ok());
  });
  // Bring the attribution up to date now (after a restart: its saved state and the fills
  // since), not on the page's first request.
  const book = data.attributionBook(opts.pool, log);
  book.refresh().catch((err) => log(`dashboard: attribution: ${String(err)}`));
  const addr = server.address() as AddressInfo;
  const hostText = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostText}:${addr.port}/`,
    server,
    dropStreams() {
      for (const s of streams) s.destroy();
      streams.clear();
    },
    async close() {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await book.idle();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function normalizeAddress(a: string | undefined): string {
  return (a ?? "").replace(/^::ffff:/, "");
}

function requirePost(req: IncomingMessage): void {
  if (req.method !== "POST") throw new HttpError(405, "use POST");
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 16_384) throw new HttpError(413, "request body too large");
    chunks.push(c);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  throw new HttpError(400, "the body must be a JSON object");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function intParam(
  q: URLSearchParams,
  name: string,
  fallback: number,
  lo: number,
  hi: number,
): number {
  const raw = q.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new HttpError(400, `${name}: must be an integer from ${lo} to ${hi}, got "${raw}"`);
  }
  return n;
}

/** beforeParam is the keyset cursor: the last id of the previous page, or null for the first. */
function beforeParam(q: URLSearchParams): number | null {
  return q.has("before") ? intParam(q, "before", 0, 1, Number.MAX_SAFE_INTEGER) : null;
}

function filterOf(q: URLSearchParams): data.FillFilter {
  const f = data.parseFillFilter(q);
  if (typeof f === "string") throw new HttpError(400, f);
  return f;
}

/** listBacktests: subdirectories of `dir` holding a tearsheet.html, newest first. */
export function listBacktests(dir: string | undefined) {
  if (!dir || !existsSync(dir)) return { configured: Boolean(dir), runs: [] };
  const runs = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[A-Za-z0-9._-]+$/.test(d.name))
    .map((d) => ({ name: d.name, file: join(dir, d.name, "tearsheet.html") }))
    .filter((r) => existsSync(r.file))
    .map((r) => ({
      name: r.name,
      modifiedAt: statSync(r.file).mtime.toISOString(),
      href: `/backtests/${r.name}/tearsheet.html`,
      /** Whether its equity curve can be drawn over the live equity. */
      overlay: existsSync(join(dir, r.name, BACKTEST_EQUITY_FILE)),
    }))
    .sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  return { configured: true, runs };
}
