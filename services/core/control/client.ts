/**
 * client: calls a control listener (server.ts) from the command line: over its Unix socket, or
 * over HTTP with a bearer token. Sends JSON, never an Origin.
 */
import { request } from "node:http";

export interface ControlTarget {
  /** A Unix socket path, or an http:// URL. */
  socketPath?: string;
  url?: string;
  /** Bearer token for a TCP listener. */
  token?: string;
}

export interface ControlAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** callControl sends `method path` with an optional JSON body and parses the JSON answer. */
export function callControl(
  target: ControlTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<ControlAnswer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: "application/json" };
  if (text !== undefined) headers["content-type"] = "application/json";
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const where = target.socketPath
    ? { socketPath: target.socketPath, path }
    : (() => {
        const u = new URL(path, target.url);
        return { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}` };
      })();
  return new Promise((resolve, reject) => {
    const req = request({ ...where, method, headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        } catch {}
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
    req.on("error", reject);
    req.end(text);
  });
}
