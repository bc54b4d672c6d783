/**
 * Order placement that can never place the same order twice.
 *
 * IMPORTANT: an order POST that may have reached the broker (timeout, reset after sending, 5xx)
 * is never re-sent blindly. It is resolved through GET /v2/orders:by_client_order_id first and
 * re-sent only when the broker says it has no such order. A re-send that meets
 * "client_order_id must be unique" resolves by fetching the order that already exists.
 */
import { randomUUID } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { TradepipeError } from "../core/errors.ts";
import { fromDecimal } from "../core/money.ts";
import { backoffDelay } from "./backoff.ts";
import { BrokerHttpError, isDuplicateClientOrderId } from "./broker-errors.ts";
import type { RestClientOptions } from "./config.ts";
import { type HttpTransport, mayHaveReachedBroker } from "./http-transport.ts";
import type { OrderRequest, WireOrder } from "./wire-types.ts";

/**
 * SubmitOutcome says how the order came to be:
 * `created` (our POST was accepted), `recovered` (a POST's answer was lost; the order was found
 * by client_order_id), `existing` (the broker already had this client_order_id).
 */
export type SubmitOutcome = "created" | "recovered" | "existing";

export interface SubmitResult {
  order: WireOrder;
  outcome: SubmitOutcome;
  /** posts is how many POSTs were written (more than 1 only after a 404 lookup). */
  posts: number;
}

/** OrderResolutionEvent is published on `tradepipe.alpaca.order-resolution`. */
export interface OrderResolutionEvent {
  clientOrderId: string;
  step: "ambiguous" | "found" | "not-found" | "resend" | "duplicate";
  error?: string;
}

export const orderResolutionChannel = diagnostics.channel("tradepipe.alpaca.order-resolution");

export interface SubmitDeps {
  transport: HttpTransport;
  options: RestClientOptions;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** getOrderByClientOrderId returns the order, or null when the broker answers 404. */
export async function getOrderByClientOrderId(
  transport: HttpTransport,
  clientOrderId: string,
): Promise<WireOrder | null> {
  try {
    const r = await transport.request<WireOrder>({
      method: "GET",
      path: "/v2/orders:by_client_order_id",
      query: { client_order_id: clientOrderId },
    });
    return r.data;
  } catch (err) {
    if (err instanceof BrokerHttpError && err.status === 404) return null;
    throw err;
  }
}

/**
 * postOrder writes one order POST (the transport still repeats it after a 429 or a connection
 * that was never made, both of which the broker cannot have acted on). It never looks up or
 * re-sends: for callers with their own resolution state machine (classifySendFailure).
 */
export async function postOrder(
  deps: Pick<SubmitDeps, "transport" | "options">,
  request: OrderRequest,
): Promise<WireOrder> {
  const r = await deps.transport.request<WireOrder>({
    method: "POST",
    path: "/v2/orders",
    body: request,
    idempotent: false,
    timeouts: deps.options.orderTimeouts,
  });
  return r.data;
}

/** SendFailure is how a failed POST must be handled (see classifySendFailure). */
export type SendFailure = "rejected" | "duplicate" | "retryable" | "ambiguous";

/**
 * classifySendFailure sorts a postOrder error: `duplicate` (422 client_order_id must be unique:
 * resolve it), `ambiguous` (may have reached the broker: resolve before any re-send),
 * `retryable` (429 or never sent: safe to send again), `rejected` (a definite refusal).
 */
export function classifySendFailure(err: unknown): {
  failure: SendFailure;
  httpStatus: number | null;
  message: string;
} {
  const message = err instanceof Error ? err.message : String(err);
  const httpStatus = err instanceof BrokerHttpError ? err.status : null;
  let failure: SendFailure;
  if (isDuplicateClientOrderId(err)) failure = "duplicate";
  else if (httpStatus === 429) failure = "retryable";
  else if (mayHaveReachedBroker(err)) failure = "ambiguous";
  else if (httpStatus === null) failure = "retryable";
  else failure = "rejected";
  return { failure, httpStatus, message };
}

/** submitOrder places `request` exactly once (see IMPORTANT above). */
export async function submitOrder(deps: SubmitDeps, request: OrderRequest): Promise<SubmitResult> {
  const clientOrderId = request.client_order_id ?? randomUUID();
  const body: OrderRequest = { ...request, client_order_id: clientOrderId };
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const maxPosts = Math.max(1, deps.options.maxAttempts);
  let posts = 0;
  for (;;) {
    try {
      posts++;
      const order = await postOrder(deps, body);
      return { order, outcome: posts === 1 ? "created" : "recovered", posts };
    } catch (err) {
      if (isDuplicateClientOrderId(err)) {
        publish({ clientOrderId, step: "duplicate" });
        const existing = await lookup(deps.transport, clientOrderId, err);
        if (existing === null) throw err;
        assertSameOrder(existing, body);
        return { order: existing, outcome: posts === 1 ? "existing" : "recovered", posts };
      }
      if (!mayHaveReachedBroker(err)) throw err;
      publish({ clientOrderId, step: "ambiguous", error: (err as Error).message });
      const existing = await lookup(deps.transport, clientOrderId, err);
      if (existing !== null) {
        publish({ clientOrderId, step: "found" });
        assertSameOrder(existing, body);
        return { order: existing, outcome: "recovered", posts };
      }
      publish({ clientOrderId, step: "not-found" });
      // The broker has no such order: re-sending is safe (a late original meets a 422).
      if (posts >= maxPosts) throw err;
      publish({ clientOrderId, step: "resend" });
      await sleep(backoffDelay(posts - 1, deps.options.backoff, random));
    }
  }
}

/** lookup resolves by client_order_id; if even that fails, the order's fate is unknown. */
async function lookup(
  transport: HttpTransport,
  clientOrderId: string,
  original: unknown,
): Promise<WireOrder | null> {
  try {
    return await getOrderByClientOrderId(transport, clientOrderId);
  } catch (lookupErr) {
    throw new TradepipeError(
      "TP_ERR_BROKER_ORDER_UNRESOLVED",
      `order ${clientOrderId}: the POST failed (${(original as Error).message}) and the lookup ` +
        `by client_order_id failed too (${(lookupErr as Error).message}); it may or may not exist`,
      { cause: lookupErr },
    );
  }
}

/**
 * assertSameOrder refuses to treat a different order as ours: same client_order_id but another
 * symbol, side, type or quantity means two intents share an id, which must be loud.
 */
export function assertSameOrder(existing: WireOrder, request: OrderRequest): void {
  const problems: string[] = [];
  if (existing.symbol !== request.symbol) problems.push(`symbol ${existing.symbol}`);
  if (existing.side !== request.side) problems.push(`side ${existing.side}`);
  if (existing.type !== request.type) problems.push(`type ${existing.type}`);
  if (!sameDecimal(existing.qty, request.qty)) problems.push(`qty ${existing.qty}`);
  if (!sameDecimal(existing.notional, request.notional))
    problems.push(`notional ${existing.notional}`);
  if (problems.length > 0) {
    throw new TradepipeError(
      "TP_ERR_BROKER_ORDER_CONFLICT",
      `client_order_id ${request.client_order_id} is held by order ${existing.id} with ` +
        `${problems.join(", ")}, not the requested ${request.side} ${request.qty ?? request.notional} ` +
        `${request.symbol} ${request.type}`,
    );
  }
}

function sameDecimal(existing: string | null, requested: string | undefined): boolean {
  if (requested === undefined) return true;
  if (existing === null) return false;
  return fromDecimal(existing) === fromDecimal(requested);
}

function publish(event: OrderResolutionEvent): void {
  if (orderResolutionChannel.hasSubscribers) orderResolutionChannel.publish(event);
}
