/**
 * support: small helpers shared by the simulator's integration tests — bounded waiting and a
 * raw WebSocket client that records frames.
 */
import assert from "node:assert/strict";
import { decode, encode as encodeMsgpack } from "@msgpack/msgpack";
import WebSocket from "ws";
import { OpenApiValidator } from "../conformance/openapi-validator.ts";

/** waitFor polls until `cond` holds; it fails the test with `what` after `ms` (a bound, not a timing assertion). */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** RawClient is a plain ws client that decodes every frame (JSON or MessagePack). */
export class RawClient {
  readonly ws: WebSocket;
  readonly frames: unknown[] = [];
  closed = false;
  private readonly msgpack: boolean;

  constructor(url: string, opts: { msgpack?: boolean; headers?: Record<string, string> } = {}) {
    this.msgpack = opts.msgpack ?? false;
    this.ws = new WebSocket(url, {
      headers: {
        ...(this.msgpack ? { "Content-Type": "application/msgpack" } : {}),
        ...opts.headers,
      },
    });
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (this.msgpack && isBinary) this.frames.push(decode(data));
      else this.frames.push(JSON.parse(data.toString("utf8")));
    });
    this.ws.on("close", () => {
      this.closed = true;
    });
    this.ws.on("error", () => {});
  }

  async open(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(this.msgpack ? Buffer.from(encodeMsgpack(msg)) : JSON.stringify(msg));
  }

  /** next waits for the frame after index `from` that satisfies `pred`, returning it. */
  async next(pred: (f: unknown) => boolean, what: string, from = 0): Promise<unknown> {
    let found: unknown;
    await waitFor(() => {
      found = this.frames.slice(from).find(pred);
      return found !== undefined;
    }, what);
    return found;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Api is a tiny fetch wrapper with the simulator's keys that records status, headers and JSON body. */
export interface ApiResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export function api(base: string, keys: { keyId: string; secretKey: string }) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResult> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        "APCA-API-KEY-ID": keys.keyId,
        "APCA-API-SECRET-KEY": keys.secretKey,
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...extraHeaders,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    checkSchema(method, path, res.status, parsed);
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

let validator: OpenApiValidator | undefined;

/**
 * checkSchema validates every Alpaca-API answer a test sees against Alpaca's OpenAPI documents
 * and fails the test on the spot otherwise. Admin endpoints and requests to routes that do not
 * exist (404 "endpoint not found", 405) are not Alpaca's API and are skipped.
 */
function checkSchema(method: string, path: string, status: number, body: unknown): void {
  const pathname = new URL(path, "http://sim").pathname;
  const message = (body as { message?: unknown } | undefined)?.message;
  if (pathname.startsWith("/admin/") || status === 405 || message === "endpoint not found") return;
  validator ??= new OpenApiValidator();
  const host = pathname.startsWith("/v2/stocks") ? "md" : "trading";
  const failure = validator.check(method, pathname, status, body, host);
  if (failure) {
    throw new assert.AssertionError({
      message: `${method} ${path} → ${status} does not match Alpaca's OpenAPI schema: ${failure.errors}`,
    });
  }
}

/**
 * listenTradeUpdates opens the simulator's trading stream at `streamUrl`, authenticates with
 * `keys` and listens to trade_updates; resolves once the stream says it is listening.
 */
export async function listenTradeUpdates(
  streamUrl: string,
  keys: { keyId: string; secretKey: string },
): Promise<RawClient> {
  const c = new RawClient(streamUrl);
  await c.open();
  c.send({ action: "authenticate", data: { key_id: keys.keyId, secret_key: keys.secretKey } });
  c.send({ action: "listen", data: { streams: ["trade_updates"] } });
  await c.next((f) => (f as Record<string, unknown>)["stream"] === "listening", "listening");
  return c;
}
