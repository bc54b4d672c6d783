/**
 * write-behind projects the journal's audit writes into Postgres behind the order path: records
 * appended while a batch commits wait and go together in the next one (one statement, one
 * commit with synchronous_commit on, however many rows). Nothing on the order path waits for
 * it.
 *
 * Back-pressure: while the backlog (records appended, not yet committed) is at or over
 * `maxRows`, or its oldest record is `maxSeconds` old, `halted()` names the reason and the
 * executor sends no new order; trading resumes by itself once the backlog drains below both.
 *
 * IMPORTANT: a stale fencing epoch (another instance leads) fences the writer for good. A batch
 * the database refuses for its data (class 22/23) is split by order and the refused order's rows
 * are set aside (counted, logged; they stay in the journal). Any other failure is retried with
 * backoff and the backlog grows, which is what the bound is for.
 */
import { isStaleEpochError } from "../core/db/errors.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { Order } from "./core/index.ts";
import { type ExecutionRow, gapOf } from "./fill-rows.ts";
import type { ExecutionMetrics } from "./metrics.ts";
import type { AuditWrite, ExecutionStore } from "./store.ts";

export interface WriteBehindLimits {
  /** Halt new orders while this many records wait for Postgres. */
  maxRows: number;
  /** Halt new orders while the oldest waiting record is this old. */
  maxSeconds: number;
  /** At most this many records in one statement. */
  maxBatch: number;
}

export interface WriteBehindDeps {
  store: ExecutionStore;
  log: Logger;
  metrics: ExecutionMetrics;
  limits: WriteBehindLimits;
  /** Reads an order's executions for a fill with a gap (fill-rows.ts); null when unavailable. */
  fetchExecutions?: FetchExecutions;
  /** A batch committed `fills` new fill rows. */
  onCommitted(fills: number): void;
  /** Another instance leads: stop acting. */
  onFenced(err: Error): void;
  /** The halt state changed (null: trading may go on). */
  onHaltChanged(reason: string | null): void;
}

interface Pending {
  write: AuditWrite;
  /** process.hrtime at append: the audit lag is measured from here to the commit. */
  atNs: bigint;
}

/** FetchExecutions reads an order's executions (FILL activities); null when unavailable. */
export type FetchExecutions = (order: Order, filledQty: string) => Promise<ExecutionRow[] | null>;

/**
 * attachExecutions reads, for each write whose fill has a gap (a fill learnt from a lookup, or
 * executions the stream skipped: rare), the order's executions, so each is recorded as its own
 * fill row keyed by its execution id (fill-rows.ts). The write-behind and the journal replay
 * both use it, so the same execution stored by either is one row.
 */
export async function attachExecutions(
  writes: readonly AuditWrite[],
  fetch: FetchExecutions | undefined,
): Promise<void> {
  if (fetch === undefined) return;
  for (const w of writes) {
    if (w.executions !== undefined || gapOf(w.record) <= 0n || !w.order.brokerOrderId) continue;
    w.executions = await fetch(w.order, w.record.detail.filledQty ?? "0");
  }
}

export class WriteBehind {
  readonly #d: WriteBehindDeps;
  readonly #queue: Pending[] = [];
  #head = 0;
  #pumping: Promise<void> | undefined;
  #scheduled = false;
  #fenced = false;
  #giveUpAt = Number.POSITIVE_INFINITY;
  #halt: string | null = null;
  readonly #sampler: NodeJS.Timeout;

  constructor(deps: WriteBehindDeps) {
    this.#d = deps;
    // The age bound must trip with no order flowing too (the database went away while idle).
    this.#sampler = setInterval(() => this.#checkHalt(process.hrtime.bigint()), 250);
    this.#sampler.unref();
  }

  get backlogRows(): number {
    return this.#queue.length - this.#head;
  }

  /** backlogSeconds: age of the oldest record not yet committed (0 when none). */
  backlogSeconds(nowHr = process.hrtime.bigint()): number {
    if (this.#head >= this.#queue.length) return 0;
    return Number(nowHr - this.#queue[this.#head]!.atNs) / 1e9;
  }

  /**
   * push queues one journaled write. IMPORTANT: the batch starts neither inside the current
   * synchronous run nor before the order it belongs to is written: undici writes a request on a
   * reused connection from a setImmediate scheduled right after this push, so the batch waits
   * one more turn (an immediate scheduled from an immediate runs in the next loop iteration) and
   * the order path pays nothing for the database.
   */
  push(write: AuditWrite, atNs: bigint): void {
    if (this.#fenced) return;
    this.#queue.push({ write, atNs });
    if (!this.#scheduled && this.#pumping === undefined) {
      this.#scheduled = true;
      setImmediate(() =>
        setImmediate(() => {
          this.#scheduled = false;
          this.#kick();
        }),
      );
    }
  }

  /**
   * halted: why new orders must not be sent now (the backlog is over its bound), else null.
   * Cheap: asked before every new order.
   */
  halted(nowHr: bigint): string | null {
    if (this.#queue.length - this.#head >= this.#d.limits.maxRows) this.#checkHalt(nowHr);
    else if (this.#halt !== null || this.backlogSeconds(nowHr) >= this.#d.limits.maxSeconds) {
      this.#checkHalt(nowHr);
    }
    return this.#halt;
  }

  /** drained resolves once the backlog is empty, or false after `ms` (the database is down). */
  async drained(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    this.#giveUpAt = deadline;
    while (this.backlogRows > 0 && !this.#fenced) {
      if (Date.now() >= deadline) return false;
      this.#kick();
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.backlogRows === 0;
  }

  /** stop: no more sampling; a batch retrying against a dead database gives up at its next try. */
  stop(): void {
    clearInterval(this.#sampler);
    this.#giveUpAt = Math.min(this.#giveUpAt, Date.now());
  }

  #checkHalt(nowHr: bigint): void {
    const rows = this.backlogRows;
    const seconds = this.backlogSeconds(nowHr);
    const { maxRows, maxSeconds } = this.#d.limits;
    this.#d.metrics.auditBacklogRows.set(rows);
    this.#d.metrics.auditBacklogSeconds.set(seconds);
    let reason: string | null = null;
    if (rows >= maxRows) {
      reason = `audit backlog ${rows} rows not yet in Postgres (bound ${maxRows})`;
    } else if (seconds >= maxSeconds) {
      reason = `audit backlog ${seconds.toFixed(1)} s behind in Postgres (bound ${maxSeconds} s)`;
    }
    if ((reason === null) !== (this.#halt === null)) {
      this.#halt = reason;
      this.#d.metrics.auditBacklogHalted.set(reason === null ? 0 : 1);
      this.#d.onHaltChanged(reason);
    } else if (reason !== null) {
      this.#halt = reason;
    }
  }

  #kick(): void {
    if (this.#pumping !== undefined || this.#fenced) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
    });
  }

  async #pump(): Promise<void> {
    let delayMs = 100;
    while (this.#head < this.#queue.length && !this.#fenced) {
      const end = Math.min(this.#queue.length, this.#head + this.#d.limits.maxBatch);
      const batch = this.#queue.slice(this.#head, end);
      const outcome = await this.#write(batch);
      if (outcome === "retry") {
        if (Date.now() >= this.#giveUpAt) return; // stopping: the journal keeps the rest
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 5_000);
        continue;
      }
      delayMs = 100;
      const now = process.hrtime.bigint();
      for (const p of batch) this.#d.metrics.auditLag.observe(Number(now - p.atNs) / 1e9);
      this.#head = end;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#checkHalt(now);
    }
  }

  /** write commits one batch: "done" (written or set aside) or "retry". */
  async #write(batch: Pending[]): Promise<"done" | "retry"> {
    const writes = batch.map((p) => p.write);
    await attachExecutions(writes, this.#d.fetchExecutions);
    const t0 = process.hrtime.bigint();
    try {
      const inserted = await this.#d.store.writeBatch(writes);
      this.#d.metrics.auditWrite.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      if (inserted > 0) this.#d.onCommitted(inserted);
      return "done";
    } catch (err) {
      if (isStaleEpochError(err)) {
        this.#fenced = true;
        this.stop();
        this.#d.onFenced(err as Error);
        return "done";
      }
      if (isDataError(err)) {
        const groups = Map.groupBy(batch, (p) => p.write.record.clientOrderId);
        if (groups.size > 1) {
          for (const group of groups.values()) {
            if ((await this.#write(group)) === "retry") return "retry";
          }
          return "done";
        }
        this.#d.metrics.anomalies.labels("audit_write_refused").inc();
        this.#d.log.error(
          { err: (err as Error).message, clientOrderId: writes[0]?.record.clientOrderId },
          "the database refused an order's audit rows: set aside (they stay in the journal)",
        );
        return "done";
      }
      this.#d.log.error(
        { err: (err as Error).message, backlog: this.backlogRows },
        "audit write-behind failed: retrying; orders go on until the backlog bound",
      );
      return "retry";
    }
  }
}

/** isDataError: SQLSTATE class 22 (data exception) or 23 (integrity constraint violation). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
