/**
 * server: the simulator's HTTP front door (node:http). It authenticates with Alpaca's key
 * headers, applies the per-account rate limit and injected REST faults, parses the JSON body and
 * dispatches to the Trading, Market Data and admin route tables. Every answer carries the
 * X-RateLimit-* headers; no input can make it throw past this file (500 at worst).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { isAdminAuthorized, isAuthorized, type SimContext } from "../shell/context.ts";
import { ADMIN_ROUTES } from "./admin.ts";
import { MARKET_DATA_ROUTES } from "./marketdata.ts";
import { type ApiRequest, type ApiResponse, ERR } from "./respond.ts";
import { type Route, TRADING_ROUTES } from "./trading.ts";

export const MAX_BODY_BYTES = 1 << 20;

const ALL_ROUTES: Route[] = [...TRADING_ROUTES, ...MARKET_DATA_ROUTES, ...ADMIN_ROUTES];

function match(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | ApiResponse {
  let pathMatched = false;
  for (const r of ALL_ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      params[k] = safeDecode(m[i + 1]!);
    });
    return { route: r, params };
  }
  return pathMatched ? ERR.methodNotAllowed() : ERR.notFound();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function send(res: http.ServerResponse, r: ApiResponse, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const all = { ...headers, "X-Request-ID": randomUUID(), ...r.headers };
  if (r.status === 204 || r.body === undefined) {
    res.writeHead(r.status, all);
    res.end();
    return;
  }
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, {
    ...all,
    "Content-Type": "application/json; charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(over ? "too-large" : Buffer.concat(chunks)));
    req.on("error", () => resolve("too-large"));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** handle runs one request to completion; exported for tests and the benchmark's baseline. */
export async function handle(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim");
  const path = url.pathname;
  const isAdmin = path.startsWith("/admin/");
  const limiter = path.startsWith("/v2/stocks") ? ctx.dataLimiter : ctx.tradingLimiter;
  const raw = await readBody(req);
  const nowMs = Date.now();
  const headers = () => limiter.headers(Date.now());
  if (raw === "too-large") {
    send(res, ERR.tooLarge(), { ...headers(), Connection: "close" });
    return;
  }
  const keyId = req.headers["apca-api-key-id"];
  const secret = req.headers["apca-api-secret-key"];
  if (isAdmin && ctx.admin.kind === "off") {
    send(res, ERR.notFound(), headers());
    return;
  }
  const authorized = isAdmin
    ? isAdminAuthorized(ctx, req.headers.authorization, keyId, secret)
    : isAuthorized(ctx, keyId, secret);
  if (!authorized) {
    send(res, ERR.unauthorized(), headers());
    return;
  }
  if (!isAdmin) {
    if (!limiter.take(nowMs)) {
      send(res, ERR.rateLimited(), {
        ...headers(),
        "Retry-After": String(limiter.retryAfterSec(nowMs)),
      });
      return;
    }
    const fault = ctx.faults.rest();
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.kind === "status") {
      send(res, fault.status === 429 ? ERR.rateLimited() : ERR.internal(fault.status), headers());
      return;
    }
  }
  const found = match(req.method ?? "GET", path);
  if (!("route" in found)) {
    send(res, found, headers());
    return;
  }
  let body: unknown;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      send(res, ERR.badBody(), headers());
      return;
    }
  }
  const apiReq: ApiRequest = {
    method: req.method ?? "GET",
    path,
    query: url.searchParams,
    body,
    params: found.params,
  };
  let out: ApiResponse;
  try {
    out = found.route.handler(ctx, apiReq);
  } catch (e) {
    process.stderr.write(
      `broker-sim: ${req.method} ${path} failed: ${(e as Error)?.stack ?? String(e)}\n`,
    );
    out = ERR.internal();
  }
  if (apiReq.method !== "GET") ctx.onChange?.();
  send(res, out, headers());
}

export function createHttpServer(ctx: SimContext): http.Server {
  const server = http.createServer(
    { keepAliveTimeout: 65_000, maxHeaderSize: 32 * 1024 },
    (req, res) => {
      handle(ctx, req, res).catch((e: unknown) => {
        process.stderr.write(`broker-sim: request failed: ${String(e)}\n`);
        send(res, ERR.internal(), {});
      });
    },
  );
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}
