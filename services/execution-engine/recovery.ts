/**
 * recovery: what a new term of the execution engine does before it trades, after the fencing
 * that made it leader and before it rebuilds its state from Postgres:
 *
 * 1. `replayJournals`: every journal file this pipeline left in the journal directory under an
 *    older fencing epoch (a crash, a kill -9, a stop with the database down) is read up to its
 *    first torn or corrupt frame and written into Postgres (idempotent: rows already there are
 *    skipped, an order row a newer term wrote is kept), then removed.
 * 2. `adoptBrokerOrders`: the broker's orders since the last durable point (the newest audit row
 *    committed, less a margin) that carry this pipeline's client_order_id prefix and that
 *    Postgres does not know are adopted: an `orders` row and an `adopted` audit row, status
 *    submitted, so the core's start-up lookup brings them to the broker's state like any other
 *    unfinished order. This covers a journal that is gone: a pod replaced on another node, a
 *    host lost, a page-cache tail lost in a power cut.
 *
 * Then the stage rebuilds the core from Postgres, looks every unfinished order up by
 * client_order_id, checks positions, and only then takes intents (stage.ts).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AlpacaTradingClient, WireOrder } from "../alpaca-client/index.ts";
import { TradepipeError } from "../core/errors.ts";
import { fromDecimal, toDecimal } from "../core/money.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { AuditRecord, Order } from "./core/index.ts";
import { Journal, readJournal } from "./journal.ts";
import { decodeEntry, encodeHeader } from "./journal-records.ts";
import { type AuditWrite, type ExecutionStore, latestOrderRows } from "./store.ts";
import { attachExecutions, type FetchExecutions } from "./write-behind.ts";

/** The broker's clock and ours may differ; list orders from this long before the last commit. */
export const ADOPTION_MARGIN_NS = 60_000_000_000n;
/** With no audit row at all, look this far back (Alpaca's order listing is fast and paged). */
export const ADOPTION_FIRST_RUN_NS = 86_400_000_000_000n;
const REPLAY_BATCH = 500;
const LIST_PAGE = 500;

/**
 * journalDir: where the journal lives: `TRADEPIPE_JOURNAL_DIR`, else `$TRADEPIPE_DATA_DIR/journal`
 * (the data directory of `tradepipe run`), else `/var/lib/tradepipe/journal` as root, else
 * `$XDG_DATA_HOME/tradepipe/journal` (~/.local/share). The systemd unit and the pod set
 * TRADEPIPE_JOURNAL_DIR to their state directory / volume.
 */
export function journalDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1) {
  if (env.TRADEPIPE_JOURNAL_DIR) return env.TRADEPIPE_JOURNAL_DIR;
  if (env.TRADEPIPE_DATA_DIR) return join(env.TRADEPIPE_DATA_DIR, "journal");
  if (uid === 0) return "/var/lib/tradepipe/journal";
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "tradepipe", "journal");
}

/**
 * journalFileName: one file per pipeline prefix, database and fencing epoch. The database is in
 * the name because one directory can serve pipelines of the same name on different databases
 * (two `tradepipe run`s with DATABASE_URL as root share /var/lib/tradepipe/journal): without it
 * both would append to, replay and remove the same file. A promoted standby keeps the cluster's
 * system identifier, so a database failover finds the journal it must replay.
 */
export function journalFileName(prefix: string, dbId: string, epoch: number): string {
  return `${journalFileHead(prefix, dbId)}${epoch}.journal`;
}

function journalFileHead(prefix: string, dbId: string): string {
  const db = createHash("sha256").update(dbId).digest("hex").slice(0, 12);
  return `execution-${prefix}db${db}-e`;
}

function epochOfFile(name: string, prefix: string, dbId: string): number | null {
  const head = journalFileHead(prefix, dbId);
  if (!name.startsWith(head) || !name.endsWith(".journal")) return null;
  const n = Number(name.slice(head.length, -".journal".length));
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export interface OpenedJournal {
  journal: Journal;
  path: string;
}

/** openJournal creates this term's journal file (mode 0600 in a 0700 directory), header first. */
export function openJournal(o: {
  dir: string;
  prefix: string;
  epoch: number;
  dbId: string;
  nowNs: bigint;
  onSyncError(err: Error): void;
}): OpenedJournal {
  try {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_JOURNAL",
      `cannot create the journal directory ${o.dir} (set TRADEPIPE_JOURNAL_DIR): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const path = join(o.dir, journalFileName(o.prefix, o.dbId, o.epoch));
  const journal = new Journal(path, { onSyncError: o.onSyncError });
  if (journal.appendedTo === 0) {
    journal.append(
      encodeHeader({ db: o.dbId, epoch: o.epoch, prefix: o.prefix, startedNs: o.nowNs.toString() }),
    );
    journal.sync();
  }
  return { journal, path };
}

export interface ReplayReport {
  files: number;
  records: number;
  /** Files whose tail was torn or corrupt (read up to it). */
  damaged: number;
  /** Files of another database or a newer term, left alone. */
  skipped: number;
}

/** replayJournals projects the journals older terms left into Postgres, then removes them. */
export async function replayJournals(o: {
  dir: string;
  prefix: string;
  epoch: number;
  dbId: string;
  store: ExecutionStore;
  log: Logger;
  /** Reads an order's executions for a replayed fill with a gap (as the write-behind does). */
  fetchExecutions?: FetchExecutions;
}): Promise<ReplayReport> {
  const report: ReplayReport = { files: 0, records: 0, damaged: 0, skipped: 0 };
  let names: string[];
  try {
    names = readdirSync(o.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return report;
    throw err;
  }
  const files = names
    .map((name) => ({ name, epoch: epochOfFile(name, o.prefix, o.dbId) }))
    .filter((f): f is { name: string; epoch: number } => f.epoch !== null)
    .sort((a, b) => a.epoch - b.epoch);
  for (const f of files) {
    const path = join(o.dir, f.name);
    if (f.epoch >= o.epoch) {
      report.skipped++;
      o.log.warn({ path }, "journal of this or a newer term left alone");
      continue;
    }
    const contents = readJournal(path);
    const writes: AuditWrite[] = [];
    let db: string | undefined;
    for (const payload of contents.records) {
      const entry = decodeEntry(payload);
      if (entry.kind === "header") db ??= entry.header.db;
      else writes.push(entry.write);
    }
    if (db !== undefined && db !== o.dbId) {
      report.skipped++;
      o.log.warn({ path, journalDb: db, db: o.dbId }, "journal of another database left alone");
      continue;
    }
    if (contents.tail !== "clean") {
      report.damaged++;
      o.log.warn(
        { path, tail: contents.tail, validTo: contents.validTo, records: writes.length },
        "journal ends in a damaged frame: replayed up to it (the broker listing covers the rest)",
      );
    }
    // IMPORTANT: every batch writes each order's row as the whole journal leaves it. A batch
    // stamps the rows it writes with this term's epoch, so a later batch (of this replay, or of
    // the next term's after this one failed part-way, e.g. on a full disk) may not move them on
    // ("a newer term's row"): an order whose send or refusal came after the boundary was left
    // `created`, and the next term sent it again.
    const latest = latestOrderRows(writes);
    for (let i = 0; i < writes.length; i += REPLAY_BATCH) {
      const batch = writes.slice(i, i + REPLAY_BATCH);
      await attachExecutions(batch, o.fetchExecutions);
      await o.store.writeBatch(batch, f.epoch, latest);
    }
    report.files++;
    report.records += writes.length;
    // IMPORTANT: removed only after every record is committed in Postgres.
    unlinkSync(path);
  }
  return report;
}

export interface AdoptionReport {
  listed: number;
  adopted: string[];
}

/**
 * adoptBrokerOrders lists the broker's orders of this pipeline since the last durable point and
 * stores the ones Postgres lacks (see the module comment).
 */
export async function adoptBrokerOrders(o: {
  trading: AlpacaTradingClient;
  store: ExecutionStore;
  prefix: string;
  nowNs: bigint;
  log: Logger;
}): Promise<AdoptionReport> {
  const lastNs = await o.store.lastDurableNs();
  const since = lastNs > 0n ? lastNs - ADOPTION_MARGIN_NS : o.nowNs - ADOPTION_FIRST_RUN_NS;
  const ours = new Map<string, WireOrder>();
  let listed = 0;
  let after = isoOf(since);
  for (;;) {
    const page = await o.trading.listOrders({
      status: "all",
      after,
      direction: "asc",
      limit: LIST_PAGE,
    });
    listed += page.length;
    for (const w of page)
      if (w.client_order_id.startsWith(o.prefix)) ours.set(w.client_order_id, w);
    if (page.length < LIST_PAGE) break;
    const last = page[page.length - 1]!;
    const next = last.submitted_at ?? last.created_at;
    if (next === after) break; // a page of one instant: cannot page further by time
    after = next;
  }
  const known = await o.store.knownOrders([...ours.keys()]);
  const missing = [...ours.values()].filter((w) => !known.has(w.client_order_id));
  if (missing.length === 0) return { listed, adopted: [] };
  let seq = await o.store.lastSeq();
  const writes = missing.map((w) => adoptedWrite(w, o.prefix, ++seq, o.nowNs));
  await o.store.writeBatch(writes);
  for (const w of missing) {
    o.log.warn(
      { clientOrderId: w.client_order_id, brokerOrderId: w.id, status: w.status },
      "adopted an order of this pipeline that the broker holds and Postgres lacked",
    );
  }
  return { listed, adopted: missing.map((w) => w.client_order_id) };
}

export interface PositionCheck {
  /** Symbols whose broker position differs from the net of this pipeline's stored fills. */
  mismatches: Array<{ symbol: string; broker: string; stored: string }>;
}

/**
 * checkPositions compares the broker's position in each of `symbols` with the net quantity of
 * the fills Postgres holds for this pipeline's orders. A difference means fills are missing (or
 * the account is shared with another pipeline or with manual trading on these symbols): it is
 * reported, and the position-tracker's reconciliation is what corrects the books.
 */
export async function checkPositions(o: {
  trading: AlpacaTradingClient;
  store: ExecutionStore;
  prefix: string;
  symbols: readonly string[];
}): Promise<PositionCheck> {
  const [positions, stored] = await Promise.all([
    o.trading.listPositions(),
    o.store.netFilled(o.prefix),
  ]);
  const broker = new Map(positions.map((p) => [p.symbol, fromDecimal(p.qty)]));
  const mismatches: PositionCheck["mismatches"] = [];
  for (const symbol of o.symbols) {
    const b = broker.get(symbol) ?? 0n;
    const s = stored.get(symbol) ?? 0n;
    if (b !== s) mismatches.push({ symbol, broker: toDecimal(b), stored: toDecimal(s) });
  }
  return { mismatches };
}

function adoptedWrite(w: WireOrder, prefix: string, seq: number, nowNs: bigint): AuditWrite {
  const tail = w.client_order_id.slice(prefix.length);
  const createdNs = BigInt(Date.parse(w.created_at)) * 1_000_000n;
  const limitPrice = w.limit_price ? fromDecimal(w.limit_price) : null;
  const order: Order = {
    clientOrderId: w.client_order_id,
    // The readable id form is `<prefix>s<signal id>`; the hashed form does not give it back.
    signalId: tail.startsWith("s") ? tail.slice(1) : "",
    correlationId: w.client_order_id,
    symbol: w.symbol,
    side: w.side === "sell" ? "sell" : "buy",
    qty: fromDecimal(w.qty ?? "0"),
    orderType: w.type === "limit" ? "limit" : "market",
    limitPrice,
    timeInForce: (["day", "gtc", "ioc", "fok"].includes(w.time_in_force)
      ? w.time_in_force
      : "day") as Order["timeInForce"],
    decisionPrice: limitPrice ?? (w.filled_avg_price ? fromDecimal(w.filled_avg_price) : 0n),
    // Submitted: the start-up lookup applies the broker's state (fills included).
    status: "Submitted",
    brokerOrderId: w.id,
    filledQty: 0n,
    filledNotional: 0n,
    attempts: 1,
    awaiting: "none",
    cancelRequested: false,
    createdNs,
    updatedNs: nowNs,
  };
  const record: AuditRecord = {
    seq,
    clientOrderId: w.client_order_id,
    correlationId: order.correlationId,
    event: "adopted",
    fromStatus: null,
    toStatus: "Submitted",
    attempt: 1,
    detail: { cause: "broker_listing", brokerStatus: w.status, brokerOrderId: w.id },
    timeNs: nowNs,
  };
  return { record, order };
}

function isoOf(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
