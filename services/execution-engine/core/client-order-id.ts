/**
 * client-order-id derives the broker-side `client_order_id` of an order from (pipeline name,
 * signal id), so a retry, a restart or a failover can only ever name the same order again, and
 * the broker refuses a second order with that id (422 "client_order_id must be unique").
 *
 * Form (at most 48 characters, the older Alpaca limit, so either API version accepts it):
 * - `tp-<p8>-s<signalId>` when the signal id is made of [A-Za-z0-9._:-] and fits (readable);
 * - `tp-<p8>-h<h24>` otherwise, h24 being 24 hex digits of SHA-256(pipeline, signal id).
 * `<p8>` is 8 hex digits of SHA-256 of the pipeline's order-id scope (`orderIdScope`: the
 * account, the pipeline's namespace and name, and its symbols), so two pipelines on one account
 * never collide on the same signal id, even when they carry the same (default) name: pipelines
 * sharing an account trade disjoint symbols. The `s`/`h` marker keeps the two forms apart.
 */
import { createHash } from "node:crypto";

export const CLIENT_ORDER_ID_MAX_LENGTH = 48;
const READABLE = /^[A-Za-z0-9._:-]+$/;
const pipelinePrefixCache = new Map<string, string>();

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function pipelinePrefix(pipeline: string): string {
  let prefix = pipelinePrefixCache.get(pipeline);
  if (prefix === undefined) {
    prefix = `tp-${sha256Hex(pipeline).slice(0, 8)}-`;
    pipelinePrefixCache.set(pipeline, prefix);
  }
  return prefix;
}

/** OrderIdScopeParts: what makes a pipeline's orders its own on a broker account. */
export interface OrderIdScopeParts {
  /** account: the broker account's identity (the API key id names exactly one account). */
  account: string;
  namespace?: string;
  name: string;
  /** symbols: the pipeline's universe; order-independent. */
  symbols: readonly string[];
}

/**
 * orderIdScope is the text `clientOrderIdFor` hashes into the id prefix: unique per pipeline and
 * account, and a function of configuration alone, so every instance, restart and replay of a
 * pipeline names its orders the same. IMPORTANT: changing the account, name or universe changes
 * the prefix; orders already at the broker keep the ids they were sent with.
 */
export function orderIdScope(p: OrderIdScopeParts): string {
  const symbols = [...new Set(p.symbols)].sort().join(",");
  return `account=${p.account}\npipeline=${p.namespace ?? ""}/${p.name}\nsymbols=${symbols}`;
}

/**
 * The last id made: the risk-manager and then the execution engine ask for the same signal's id
 * in a row, and the same string then keys every map downstream (its hash computed once).
 */
let lastPipeline = "";
let lastSignalId = "";
let lastId = "";

/** clientOrderIdFor is the deterministic client_order_id of the order a signal produces. */
export function clientOrderIdFor(pipeline: string, signalId: string): string {
  if (signalId === lastSignalId && pipeline === lastPipeline && lastId !== "") return lastId;
  const id = makeClientOrderId(pipeline, signalId);
  lastPipeline = pipeline;
  lastSignalId = signalId;
  lastId = id;
  return id;
}

function makeClientOrderId(pipeline: string, signalId: string): string {
  if (signalId.length === 0) throw new RangeError("clientOrderIdFor: signal id is empty");
  const prefix = pipelinePrefix(pipeline);
  if (
    READABLE.test(signalId) &&
    prefix.length + 1 + signalId.length <= CLIENT_ORDER_ID_MAX_LENGTH
  ) {
    return `${prefix}s${signalId}`;
  }
  return `${prefix}h${sha256Hex(`${pipeline}\u0000${signalId}`).slice(0, 24)}`;
}
