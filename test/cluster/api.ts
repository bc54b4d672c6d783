import { request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";

/** ApiTarget says where the apiserver listens and how to authenticate to it. */
export interface ApiTarget {
  server: string;
  caPem: string;
  token: string;
}

/** ApiResponse is a raw apiserver answer. */
export interface ApiResponse {
  status: number;
  body: string;
}

/** apiGet performs one authenticated GET against the apiserver; network errors reject. */
export function apiGet(target: ApiTarget, path: string, timeoutMs = 5_000): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, target.server),
      {
        method: "GET",
        ca: target.caPem,
        headers: { authorization: `Bearer ${target.token}`, accept: "application/json" },
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * waitUntil polls check every intervalMs until it returns a value other than undefined, and
 * rejects after timeoutMs with what, the last error seen and the hint (e.g. a log's tail).
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; hint?: () => Promise<string> },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(options.intervalMs ?? 200);
  }
  const hint = options.hint ? `\n${await options.hint()}` : "";
  const last = lastError ? ` (last error: ${lastError})` : "";
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${last}${hint}`);
}

/** readyNodeNames lists the nodes whose Ready condition is True. */
export async function readyNodeNames(target: ApiTarget): Promise<Set<string>> {
  const res = await apiGet(target, "/api/v1/nodes");
  if (res.status !== 200) {
    throw new Error(`list nodes: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  }
  const list = JSON.parse(res.body) as {
    items: {
      metadata: { name: string };
      status?: { conditions?: { type: string; status: string }[] };
    }[];
  };
  return new Set(
    list.items
      .filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
      .map((n) => n.metadata.name),
  );
}
