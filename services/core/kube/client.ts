/**
 * client: a small REST client for the Kubernetes API over undici, with the authentication of a
 * client-node KubeConfig (kubeconfig file or in-cluster service account). It speaks plain JSON
 * for every resource, like client-go's dynamic client, and streams watches itself.
 *
 * Why not client-node's generated APIs and informers: the operator needs server-side apply on
 * a dozen kinds with the right content type, and a watch loop that restarts on every error and
 * re-lists on 410 Gone; client-node's informer stops on unexpected errors and its watch timeout
 * cut healthy watches in 2.0.0 (see operator/README.md). Auth stays client-node's.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { Agent, request } from "undici";

/** KubeApiError is a non-2xx answer: `status` is the HTTP code, `reason` the Status reason. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: string;
  constructor(method: string, path: string, status: number, body: string) {
    let message = body.slice(0, 500);
    let reason = "";
    try {
      const parsed = JSON.parse(body) as { message?: string; reason?: string };
      message = parsed.message ?? message;
      reason = parsed.reason ?? "";
    } catch {}
    super(`${method} ${path}: ${status} ${message}`);
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

/** isStatus: the error is an answer of the API server with one of these HTTP codes. */
export function isStatus(err: unknown, ...codes: number[]): boolean {
  return (
    typeof (err as KubeApiError)?.status === "number" &&
    codes.includes((err as KubeApiError).status)
  );
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header; default application/json. */
  accept?: string;
  signal?: AbortSignal;
}

export interface WatchEvent<T = Record<string, unknown>> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface KubeClient {
  server: string;
  /** Default namespace of the kubeconfig context (or the pod's namespace in-cluster). */
  namespace: string;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** watch streams events until the server ends the watch, `signal` aborts, or it fails. */
  watch(
    path: string,
    query: RequestOptions["query"],
    signal: AbortSignal,
    inactivityMs: number,
  ): AsyncGenerator<WatchEvent>;
  close(): Promise<void>;
}

export const APPLY_PATCH = "application/apply-patch+yaml";
/** REQUEST_TIMEOUT_MS bounds every non-watch request, start to end. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

/** loadKubeConfig: an explicit file, else KUBECONFIG / ~/.kube/config / in-cluster. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** createKubeClient builds a connection pool for the kubeconfig's current cluster and user. */
export async function createKubeClient(kc: KubeConfig): Promise<KubeClient> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const server = cluster.server.replace(/\/+$/, "");
  const tls: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    rejectUnauthorized?: boolean;
    servername?: string;
    headers?: Record<string, string>;
  } = {};
  await kc.applyToHTTPSOptions(tls as never);
  const agent = new Agent({
    connect: {
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: tls.rejectUnauthorized }
        : {}),
      ...(tls.servername ? { servername: tls.servername } : {}),
    },
    keepAliveTimeout: 30_000,
    // HTTP/1.1: each watch gets its own connection, so one stalled stream or a GOAWAY cannot
    // hold up every request multiplexed beside it (undici 8 would negotiate HTTP/2).
    allowH2: false,
  });
  // Tokens (in-cluster ones rotate) are re-read at most every 30 s.
  let headers = tls.headers ?? {};
  let headersAt = Date.now();
  const authHeaders = async (): Promise<Record<string, string>> => {
    if (Date.now() - headersAt > 30_000) {
      const fresh: { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(fresh as never);
      headers = fresh.headers ?? {};
      headersAt = Date.now();
    }
    return headers;
  };
  const contextNs = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = contextNs ?? process.env.POD_NAMESPACE ?? "default";

  async function send<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const hasBody = options.body !== undefined;
    const res = await request(`${server}${path}${queryString(options.query)}`, {
      method: method as "GET",
      dispatcher: agent,
      headers: {
        ...(await authHeaders()),
        accept: options.accept ?? "application/json",
        ...(hasBody ? { "content-type": options.contentType ?? "application/json" } : {}),
      },
      ...(hasBody ? { body: JSON.stringify(options.body) } : {}),
      // IMPORTANT: every request ends within REQUEST_TIMEOUT_MS, so no reconcile can hang.
      signal: options.signal
        ? AbortSignal.any([options.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
        : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new KubeApiError(method, path, res.statusCode, text);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function* watch(
    path: string,
    query: RequestOptions["query"],
    signal: AbortSignal,
    inactivityMs: number,
  ): AsyncGenerator<WatchEvent> {
    const res = await request(`${server}${path}${queryString({ ...query, watch: true })}`, {
      method: "GET",
      dispatcher: agent,
      headers: { ...(await authHeaders()), accept: "application/json" },
      signal,
      headersTimeout: 30_000,
      // undici's bodyTimeout is an inactivity timeout: a silent, stalled watch fails here.
      bodyTimeout: inactivityMs,
    });
    if (res.statusCode !== 200) {
      throw new KubeApiError("WATCH", path, res.statusCode, await res.body.text());
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Buffer, { stream: true });
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield JSON.parse(line) as WatchEvent;
        nl = buffered.indexOf("\n");
      }
    }
  }

  return {
    server,
    namespace,
    request: send,
    watch,
    close: () => agent.close(),
  };
}
