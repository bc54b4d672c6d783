/**
 * account-file: the simulated paper account as a versioned JSON document, and back. Pure: the
 * shell (shell/account-store.ts) reads and writes the file. Money is written as exact decimal
 * strings, times as RFC-3339 with nanoseconds, so the file round-trips to the same bigints and a
 * person can read it.
 *
 * What it holds is the account, never the market: cash, positions, realized P&L, every order
 * with its status, every execution, every order request received (refused ones included) and the
 * position of the broker's random stream, which draws order and execution ids — a restored
 * account keeps drawing fresh ids instead of replaying the previous run's.
 */
import { type Fixed, toDecimal } from "../../core/money.ts";
import type { OrderRequestRecord } from "../shell/context.ts";
import type { BrokerState, Execution } from "./broker.ts";
import { FieldReader, InvalidDocumentError } from "./field-reader.ts";
import type { Position } from "./ledger.ts";
import { isOpen, type Order } from "./orders.ts";
import type { PrngState } from "./prng.ts";
import { formatRfc3339, type Nanos } from "./time.ts";

/** ACCOUNT_FILE_FORMAT names what the document is, so another JSON file is not taken for one. */
export const ACCOUNT_FILE_FORMAT = "tradepipe-broker-sim-account";
/** ACCOUNT_FILE_VERSION is bumped whenever a reader of the previous version would misread. */
export const ACCOUNT_FILE_VERSION = 1;

/** AccountSnapshot is the decoded document: the broker's account part plus the request log. */
export interface AccountSnapshot {
  /** savedAt is the simulated time of the save; a restored clock never starts before it. */
  savedAt: Nanos;
  seed: number;
  accountId: string;
  accountNumber: string;
  createdAt: Nanos;
  startingCash: Fixed;
  cash: Fixed;
  realizedPl: Fixed;
  lastEquity: Fixed;
  positions: Position[];
  /** orders in submission order. */
  orders: Order[];
  executions: Execution[];
  orderRequests: OrderRequestRecord[];
  prng: PrngState;
}

const dec = (v: Fixed): string => toDecimal(v);
const decOrNull = (v: Fixed | null): string | null => (v === null ? null : toDecimal(v));
const ts = (t: Nanos): string => formatRfc3339(t);
const tsOrNull = (t: Nanos | null): string | null => (t === null ? null : formatRfc3339(t));

/** snapshotAccount captures the account part of a broker (and the request log) at `now`. */
export function snapshotAccount(
  state: BrokerState,
  orderRequests: OrderRequestRecord[],
  now: Nanos,
): AccountSnapshot {
  return {
    savedAt: now,
    seed: state.options.seed,
    accountId: state.accountId,
    accountNumber: state.accountNumber,
    createdAt: state.createdAt,
    startingCash: state.options.startingCash,
    cash: state.ledger.cash,
    realizedPl: state.ledger.realizedPl,
    lastEquity: state.lastEquity,
    positions: [...state.ledger.positions.values()].map((p) => ({ ...p })),
    orders: state.orderLog.map((o) => ({ ...o })),
    executions: state.executions.map((e) => ({ ...e })),
    orderRequests: orderRequests.map((r) => ({ ...r })),
    prng: state.prng.save(),
  };
}

/** encodeAccount renders a snapshot as the version-1 document (a JSON-ready object). */
export function encodeAccount(s: AccountSnapshot): Record<string, unknown> {
  return {
    format: ACCOUNT_FILE_FORMAT,
    version: ACCOUNT_FILE_VERSION,
    savedAt: ts(s.savedAt),
    seed: s.seed,
    account: {
      id: s.accountId,
      number: s.accountNumber,
      createdAt: ts(s.createdAt),
      startingCash: dec(s.startingCash),
      cash: dec(s.cash),
      realizedPl: dec(s.realizedPl),
      lastEquity: dec(s.lastEquity),
    },
    positions: s.positions.map((p) => ({
      symbol: p.symbol,
      assetId: p.assetId,
      qty: dec(p.qty),
      costBasis: dec(p.costBasis),
    })),
    orders: s.orders.map(encodeOrder),
    executions: s.executions.map(encodeExecution),
    orderRequests: s.orderRequests,
    prng: { words: s.prng.words, spare: s.prng.spare },
  };
}

function encodeExecution(e: Execution): Record<string, unknown> {
  return {
    executionId: e.executionId,
    orderId: e.orderId,
    clientOrderId: e.clientOrderId,
    symbol: e.symbol,
    side: e.side,
    qty: dec(e.qty),
    price: dec(e.price),
    t: ts(e.t),
    positionQty: dec(e.positionQty),
  };
}

/**
 * AccountRenderer writes the document as text, one position, order, fill or request a line.
 * It keeps the text of every full chunk of items that can no longer change (finished orders,
 * fills, requests: the broker only ever appends to these lists), so a save of a long history
 * costs about a join of strings, not an encoding of everything. `render` gives the same JSON
 * as `encodeAccount(snapshotAccount(...))`.
 */
export class AccountRenderer {
  private readonly chunkSize: number;
  private readonly chunks = new Map<string, { first: object; last: object; text: string }[]>();

  constructor(chunkSize = 256) {
    this.chunkSize = chunkSize;
  }

  render(state: BrokerState, orderRequests: OrderRequestRecord[], now: Nanos): string {
    const top = JSON.stringify({
      format: ACCOUNT_FILE_FORMAT,
      version: ACCOUNT_FILE_VERSION,
      savedAt: ts(now),
      seed: state.options.seed,
      account: {
        id: state.accountId,
        number: state.accountNumber,
        createdAt: ts(state.createdAt),
        startingCash: dec(state.options.startingCash),
        cash: dec(state.ledger.cash),
        realizedPl: dec(state.ledger.realizedPl),
        lastEquity: dec(state.lastEquity),
      },
    });
    const positions = [...state.ledger.positions.values()].map((p) =>
      JSON.stringify({
        symbol: p.symbol,
        assetId: p.assetId,
        qty: dec(p.qty),
        costBasis: dec(p.costBasis),
      }),
    );
    const positionsText = positions.length === 0 ? "[]" : `[\n${positions.join(",\n")}\n]`;
    const json = (v: unknown) => JSON.stringify(v);
    const orders = this.list(
      "orders",
      state.orderLog,
      (o) => !isOpen(o),
      (o) => json(encodeOrder(o)),
    );
    const executions = this.list(
      "executions",
      state.executions,
      () => true,
      (e) => json(encodeExecution(e)),
    );
    const requests = this.list("requests", orderRequests, () => true, json);
    const prng = JSON.stringify(state.prng.save());
    return `${top.slice(0, -1)},\n"positions":${positionsText},\n"orders":${orders},\n"executions":${executions},\n"orderRequests":${requests},\n"prng":${prng}}\n`;
  }

  /** list renders an append-only list, reusing the text of full chunks of settled items. */
  private list<T extends object>(
    name: string,
    items: T[],
    settled: (item: T) => boolean,
    encode: (item: T) => string,
  ): string {
    let cache = this.chunks.get(name);
    if (!cache) {
      cache = [];
      this.chunks.set(name, cache);
    }
    const parts: string[] = [];
    for (let c = 0, start = 0; start < items.length; c++, start += this.chunkSize) {
      const end = Math.min(items.length, start + this.chunkSize);
      const first = items[start]!;
      const last = items[end - 1]!;
      const hit = cache[c];
      // The same first and last objects: the same chunk (a reset makes new lists of new objects).
      if (hit && hit.first === first && hit.last === last) {
        parts.push(hit.text);
        continue;
      }
      const chunk = items.slice(start, end);
      const text = chunk.map(encode).join(",\n");
      if (chunk.length === this.chunkSize && chunk.every(settled)) cache[c] = { first, last, text };
      parts.push(text);
    }
    return parts.length === 0 ? "[]" : `[\n${parts.join(",\n")}\n]`;
  }
}

function encodeOrder(o: Order): Record<string, unknown> {
  return {
    id: o.id,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    assetId: o.assetId,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    qty: decOrNull(o.qty),
    notional: decOrNull(o.notional),
    limitPrice: decOrNull(o.limitPrice),
    stopPrice: decOrNull(o.stopPrice),
    trailPrice: decOrNull(o.trailPrice),
    trailPercent: decOrNull(o.trailPercent),
    hwm: decOrNull(o.hwm),
    filledQty: dec(o.filledQty),
    filledNotional: dec(o.filledNotional),
    status: o.status,
    extendedHours: o.extendedHours,
    positionIntent: o.positionIntent,
    createdAt: ts(o.createdAt),
    updatedAt: ts(o.updatedAt),
    submittedAt: ts(o.submittedAt),
    filledAt: tsOrNull(o.filledAt),
    expiredAt: tsOrNull(o.expiredAt),
    expiresAt: ts(o.expiresAt),
    canceledAt: tsOrNull(o.canceledAt),
    failedAt: tsOrNull(o.failedAt),
    replacedAt: tsOrNull(o.replacedAt),
    replacedBy: o.replacedBy,
    replaces: o.replaces,
    triggered: o.triggered,
    reservePrice: dec(o.reservePrice),
  };
}

const SIDES = ["buy", "sell"] as const;
const TYPES = ["market", "limit", "stop", "stop_limit", "trailing_stop"] as const;
const TIFS = ["day", "gtc", "opg", "cls", "ioc", "fok"] as const;
const STATUSES = [
  "new",
  "partially_filled",
  "filled",
  "done_for_day",
  "canceled",
  "expired",
  "replaced",
  "pending_cancel",
  "pending_replace",
  "accepted",
  "pending_new",
  "rejected",
] as const;
const INTENTS = ["buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close"] as const;

/**
 * decodeAccount checks a parsed document and turns it into a snapshot. It throws
 * InvalidDocumentError naming the first field that is wrong; it never fills in a default for a
 * missing field, because a half-read account is worse than none.
 */
export function decodeAccount(doc: unknown): AccountSnapshot {
  const r = FieldReader.root(doc);
  const format = r.raw("format");
  if (format !== ACCOUNT_FILE_FORMAT) {
    throw new InvalidDocumentError(
      `not a simulator account file ("format" is ${JSON.stringify(format)}, expected "${ACCOUNT_FILE_FORMAT}")`,
    );
  }
  const version = r.raw("version");
  if (version !== ACCOUNT_FILE_VERSION) {
    throw new InvalidDocumentError(
      `version ${JSON.stringify(version)} is not supported (this simulator reads version ${ACCOUNT_FILE_VERSION})`,
    );
  }
  const account = r.object("account");
  const snapshot: AccountSnapshot = {
    savedAt: r.time("savedAt"),
    seed: r.integer("seed"),
    accountId: account.string("id"),
    accountNumber: account.string("number"),
    createdAt: account.time("createdAt"),
    startingCash: account.fixed("startingCash"),
    cash: account.fixed("cash"),
    realizedPl: account.fixed("realizedPl"),
    lastEquity: account.fixed("lastEquity"),
    positions: r.list("positions").map(decodePosition),
    orders: r.list("orders").map(decodeOrder),
    executions: r.list("executions").map(decodeExecution),
    orderRequests: r.list("orderRequests").map(decodeOrderRequest),
    prng: decodePrng(r.object("prng")),
  };
  checkConsistency(snapshot, r);
  return snapshot;
}

function decodePosition(p: FieldReader): Position {
  const qty = p.fixed("qty");
  if (qty === 0n) throw new InvalidDocumentError(`${p.path("qty")}: a position cannot be 0`);
  return {
    symbol: p.string("symbol"),
    assetId: p.string("assetId"),
    qty,
    costBasis: p.fixed("costBasis"),
  };
}

function decodeOrder(o: FieldReader): Order {
  return {
    id: o.string("id"),
    clientOrderId: o.string("clientOrderId"),
    symbol: o.string("symbol"),
    assetId: o.string("assetId"),
    side: o.oneOf("side", SIDES),
    type: o.oneOf("type", TYPES),
    timeInForce: o.oneOf("timeInForce", TIFS),
    qty: o.fixedOrNull("qty"),
    notional: o.fixedOrNull("notional"),
    limitPrice: o.fixedOrNull("limitPrice"),
    stopPrice: o.fixedOrNull("stopPrice"),
    trailPrice: o.fixedOrNull("trailPrice"),
    trailPercent: o.fixedOrNull("trailPercent"),
    hwm: o.fixedOrNull("hwm"),
    filledQty: o.fixed("filledQty"),
    filledNotional: o.fixed("filledNotional"),
    status: o.oneOf("status", STATUSES),
    extendedHours: o.boolean("extendedHours"),
    positionIntent: o.oneOf("positionIntent", INTENTS),
    createdAt: o.time("createdAt"),
    updatedAt: o.time("updatedAt"),
    submittedAt: o.time("submittedAt"),
    filledAt: o.timeOrNull("filledAt"),
    expiredAt: o.timeOrNull("expiredAt"),
    expiresAt: o.time("expiresAt"),
    canceledAt: o.timeOrNull("canceledAt"),
    failedAt: o.timeOrNull("failedAt"),
    replacedAt: o.timeOrNull("replacedAt"),
    replacedBy: o.stringOrNull("replacedBy"),
    replaces: o.stringOrNull("replaces"),
    triggered: o.boolean("triggered"),
    reservePrice: o.fixed("reservePrice"),
  };
}

function decodeExecution(e: FieldReader): Execution {
  return {
    executionId: e.string("executionId"),
    orderId: e.string("orderId"),
    clientOrderId: e.string("clientOrderId"),
    symbol: e.string("symbol"),
    side: e.oneOf("side", SIDES),
    qty: e.fixed("qty"),
    price: e.fixed("price"),
    t: e.time("t"),
    positionQty: e.fixed("positionQty"),
  };
}

function decodeOrderRequest(q: FieldReader): OrderRequestRecord {
  return {
    kind: q.oneOf("kind", ["submit", "replace"] as const),
    client_order_id: q.stringOrNull("client_order_id"),
    status: q.integer("status"),
    order_id: q.stringOrNull("order_id"),
    at: q.string("at"),
  };
}

function decodePrng(p: FieldReader): PrngState {
  const words = p.list("words", "number");
  if (words.length !== 4) throw new InvalidDocumentError(`${p.path("words")}: expected 4 numbers`);
  const out = words.map((w, i) => {
    const v = w.self();
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) {
      throw new InvalidDocumentError(
        `${p.path(`words[${i}]`)}: expected a 32-bit unsigned integer`,
      );
    }
    return v as number;
  }) as [number, number, number, number];
  const spare = p.raw("spare");
  if (spare !== null && typeof spare !== "number") {
    throw new InvalidDocumentError(`${p.path("spare")}: expected a number or null`);
  }
  return { words: out, spare };
}

/** checkConsistency refuses documents whose parts contradict each other. */
function checkConsistency(s: AccountSnapshot, r: FieldReader): void {
  const ids = new Map<string, number>();
  const clientIds = new Map<string, number>();
  s.orders.forEach((o, i) => {
    const dupId = ids.get(o.id);
    if (dupId !== undefined)
      throw new InvalidDocumentError(`${r.path(`orders[${i}].id`)}: same id as orders[${dupId}]`);
    ids.set(o.id, i);
    const dupClient = clientIds.get(o.clientOrderId);
    if (dupClient !== undefined) {
      throw new InvalidDocumentError(
        `${r.path(`orders[${i}].clientOrderId`)}: same client_order_id as orders[${dupClient}]`,
      );
    }
    clientIds.set(o.clientOrderId, i);
  });
  const symbols = new Set<string>();
  s.positions.forEach((p, i) => {
    if (symbols.has(p.symbol)) {
      throw new InvalidDocumentError(
        `${r.path(`positions[${i}].symbol`)}: ${p.symbol} appears twice`,
      );
    }
    symbols.add(p.symbol);
  });
  s.executions.forEach((e, i) => {
    if (!ids.has(e.orderId)) {
      throw new InvalidDocumentError(
        `${r.path(`executions[${i}].orderId`)}: no order with id ${e.orderId}`,
      );
    }
  });
}
