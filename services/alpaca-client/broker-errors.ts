/**
 * Broker errors: what Alpaca answered (HTTP status, Alpaca's numeric code and message) carried on
 * a TradepipeError so callers branch on `code`, and on `status`/`alpacaCode` where they must.
 */
import { TradepipeError } from "../core/errors.ts";
import type { AlpacaErrorBody } from "./wire-types.ts";

/** ALPACA_CODE_DUPLICATE_CLIENT_ORDER_ID is the 422 code of "client_order_id must be unique". */
export const ALPACA_CODE_DUPLICATE_CLIENT_ORDER_ID = 40010001;

/** BrokerHttpError is a non-2xx answer from the broker (code TP_ERR_BROKER_HTTP or _RATE_LIMITED). */
export class BrokerHttpError extends TradepipeError {
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly alpacaCode: number | undefined;
  readonly alpacaMessage: string | undefined;
  readonly body: AlpacaErrorBody | undefined;
  constructor(method: string, path: string, status: number, body: AlpacaErrorBody | undefined) {
    const alpacaMessage = typeof body?.message === "string" ? body.message : undefined;
    const alpacaCode = typeof body?.code === "number" ? body.code : undefined;
    const detail = [alpacaCode, alpacaMessage].filter((x) => x !== undefined).join(" ");
    super(
      status === 429 ? "TP_ERR_RATE_LIMITED" : "TP_ERR_BROKER_HTTP",
      `${method} ${path} → HTTP ${status}${detail ? `: ${detail}` : ""}`,
    );
    this.name = "BrokerHttpError";
    this.status = status;
    this.method = method;
    this.path = path;
    this.alpacaCode = alpacaCode;
    this.alpacaMessage = alpacaMessage;
    this.body = body;
  }
}

/** parseErrorBody reads Alpaca's `{code, message}` envelope; anything else becomes `{message}`. */
export function parseErrorBody(text: string): AlpacaErrorBody | undefined {
  if (text.length === 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      return parsed as AlpacaErrorBody;
    }
  } catch {
    // not JSON: keep the text (truncated) as the message
  }
  return { message: text.slice(0, 500) };
}

/**
 * isDuplicateClientOrderId tells a 422 "client_order_id must be unique" from other 422s. The
 * message decides: Alpaca answers every invalid parameter with code 40010001 too ("qty must be
 * > 0", "invalid timeframe"), so the code alone would turn a plain reject into an order to adopt.
 * Only an answer without a message falls back to the code.
 */
export function isDuplicateClientOrderId(err: unknown): boolean {
  if (!(err instanceof BrokerHttpError) || err.status !== 422) return false;
  if (err.alpacaMessage !== undefined) {
    return /client_order_id must be unique/i.test(err.alpacaMessage);
  }
  return err.alpacaCode === ALPACA_CODE_DUPLICATE_CLIENT_ORDER_ID;
}

/**
 * NetworkFailure says whether a failed request can have reached the broker:
 * `notSent` (connect refused/timed out: safe to re-send anything) or `maybeSent` (reset or
 * timeout after the request was written: the broker may have acted on it).
 */
export type NetworkFailure = "notSent" | "maybeSent";

const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** classifyNetworkError maps an undici/socket error to whether the request may have been sent. */
export function classifyNetworkError(err: unknown): NetworkFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NOT_SENT_CODES.has(code)) return "notSent";
  return "maybeSent";
}

/** networkError wraps a transport failure as TP_ERR_BROKER_TIMEOUT or TP_ERR_BROKER_NETWORK. */
export function networkError(method: string, path: string, err: unknown): TradepipeError {
  const code = (err as { code?: unknown } | null)?.code;
  const isTimeout =
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    (err as Error | null)?.name === "TimeoutError";
  const reason = err instanceof Error ? err.message : String(err);
  return new TradepipeError(
    isTimeout ? "TP_ERR_BROKER_TIMEOUT" : "TP_ERR_BROKER_NETWORK",
    `${method} ${path}: ${typeof code === "string" ? `${code} ` : ""}${reason}`,
    { cause: err },
  );
}
