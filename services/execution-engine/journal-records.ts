/**
 * journal-records: what the execution journal holds, one JSON document per frame.
 *
 * - `h` (header, the first frame of every file): the database the file's rows belong to, the
 *   fencing epoch and the pipeline's client_order_id prefix. A file of another database (a
 *   journal directory shared by mistake) is never replayed into this one.
 * - `a` (audit): one audit record with its order as it stood after the step that made it: all
 *   the audit writer needs to project it into `order_audit_trail`, `orders` and `fills`.
 *
 * Fixed-point values and nanosecond times are bigints; they travel as decimal strings.
 */
import { TradepipeError } from "../core/errors.ts";
import type { AuditRecord, Order } from "./core/index.ts";
import type { AuditWrite } from "./store.ts";

export interface JournalHeader {
  k: "h";
  /** database identity (its system identifier and name) the rows are projected into */
  db: string;
  epoch: number;
  prefix: string;
  /** wall-clock time the file was started, ns since the epoch, as a decimal string */
  startedNs: string;
}

export type JournalEntry =
  | { kind: "header"; header: JournalHeader }
  | { kind: "audit"; write: AuditWrite };

const ORDER_BIGINTS = [
  "qty",
  "decisionPrice",
  "filledQty",
  "filledNotional",
  "createdNs",
  "updatedNs",
] as const;

/**
 * encodeAudit: the frame payload of one audit write (IMPORTANT: on the order path). The known
 * bigint fields become decimal strings in shallow copies, which `JSON.stringify` then writes
 * without a replacer function (a replacer is called for every key and costs about twice the
 * time); a bigint anywhere else throws, so a new field cannot be dropped silently.
 */
export function encodeAudit(write: AuditWrite): string {
  const o = write.order;
  const order: Record<string, unknown> = { ...o };
  for (const f of ORDER_BIGINTS) order[f] = o[f].toString();
  order.limitPrice = o.limitPrice === null ? null : o.limitPrice.toString();
  const record = { ...write.record, timeNs: write.record.timeNs.toString() };
  return JSON.stringify({ k: "a", r: record, o: order });
}

export function encodeHeader(h: Omit<JournalHeader, "k">): string {
  return JSON.stringify({ k: "h", ...h });
}

/** decodeEntry parses one frame; a frame that is not a journal entry is TP_ERR_JOURNAL. */
export function decodeEntry(payload: Buffer): JournalEntry {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new TradepipeError("TP_ERR_JOURNAL", "journal frame is not JSON", { cause: err });
  }
  if (doc.k === "h") return { kind: "header", header: doc as unknown as JournalHeader };
  if (doc.k !== "a" || typeof doc.r !== "object" || typeof doc.o !== "object") {
    throw new TradepipeError("TP_ERR_JOURNAL", `journal frame of unknown kind ${String(doc.k)}`);
  }
  const r = doc.r as Record<string, unknown>;
  const o = doc.o as Record<string, unknown>;
  const order = { ...o } as unknown as Order;
  const bag = order as unknown as Record<string, unknown>;
  for (const f of ORDER_BIGINTS) bag[f] = BigInt(o[f] as string);
  order.limitPrice = o.limitPrice === null ? null : BigInt(o.limitPrice as string);
  const record = { ...r, timeNs: BigInt(r.timeNs as string) } as unknown as AuditRecord;
  return { kind: "audit", write: { record, order } };
}
