/**
 * server: the one small HTTP server of every tradepipe process.
 *   GET /health   200 while the process is alive (liveness)
 *   GET /ready    200 when ready to trade, else 503 with the reasons (readiness)
 *   GET /metrics  Prometheus exposition of the process registry
 * Extra read-only routes (e.g. a stage's `GET /kill-switch`) can be mounted on the same server.
 *
 * IMPORTANT: this server is read-only. It answers anyone who can reach it (Prometheus, probes,
 * other pods), so it serves GET and HEAD only; anything that changes state belongs on the
 * authenticated control listener (services/core/control).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { evaluateReadiness, type ReadinessSource } from "./readiness.ts";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HealthServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; pods and hosts scraped from outside pass 0.0.0.0. */
  host?: string;
  registry?: Registry;
  readiness?: ReadinessSource;
  /** Extra read-only routes keyed "GET /path", e.g. { "GET /kill-switch": handler }. */
  routes?: Record<string, RouteHandler>;
}

export interface HealthServer {
  port: number;
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  close(): Promise<void>;
}

const startedAt = Date.now();

/** startHealthServer listens and resolves once the port is bound. */
export async function startHealthServer(opts: HealthServerOptions = {}): Promise<HealthServer> {
  const host = opts.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    handle(req, res, opts).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (err as Error)?.message ?? String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: HealthServerOptions,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return sendJson(res, 405, {
      error: `${method} ${path}: this server is read-only (changes go to the control listener)`,
    });
  }
  const extra = opts.routes?.[`GET ${path}`];
  if (extra) return extra(req, res);
  switch (path) {
    case "/health":
      return sendJson(res, 200, {
        status: "alive",
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      });
    case "/ready": {
      const report = await evaluateReadiness(opts.readiness);
      return sendJson(res, report.ready ? 200 : 503, report);
    }
    case "/metrics": {
      if (!opts.registry)
        return sendJson(res, 404, { error: "no metrics registry in this process" });
      const body = await opts.registry.metrics();
      res.writeHead(200, { "content-type": opts.registry.contentType });
      res.end(method === "HEAD" ? undefined : body);
      return;
    }
    default:
      return sendJson(res, 404, { error: `${path}: not found (try /health, /ready, /metrics)` });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(res.req?.method === "HEAD" ? undefined : text);
}
