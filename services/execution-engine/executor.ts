/**
 * executor runs the execution core for the stage shell: every event goes through
 * `stepExecution` synchronously, and the commands it returns are carried out strictly in order,
 * in the same synchronous run (journal-ahead order path):
 *
 *   decision → WriteAudit…: append to the local journal (one writeSync) → SendOrder: the POST
 *
 * with no await and no event-loop hop in between. Postgres comes behind: every journaled record
 * is handed to the write-behind, which commits it in batches (write-behind.ts).
 *
 * IMPORTANT: an order is sent only after its audit records are in the journal; a journal that
 * cannot be written stops the engine before anything else runs. Two gates stand in front of each
 * new order: the leadership deadline (`mayAct`) and the audit backlog bound; a send either
 * refuses is failed locally as rejected and never reaches the broker.
 */

import type { Logger } from "../core/telemetry/index.ts";
import type { BrokerCalls } from "./broker.ts";
import {
  ENGINE_REFUSAL_REASONS,
  type ExecutionCommand,
  type ExecutionEvent,
  type ExecutionState,
  findOrder,
  type Order,
  type OrderUpdateOut,
  stepExecution,
} from "./core/index.ts";
import { faultPoint } from "./fault-points.ts";
import type { Journal } from "./journal.ts";
import { encodeAudit } from "./journal-records.ts";
import type { ExecutionMetrics } from "./metrics.ts";
import type { AuditWrite } from "./store.ts";
import type { WriteBehind } from "./write-behind.ts";

/** UpdateContext: what the shell knew about the event behind a published update. */
export interface UpdateContext {
  positionQty: string;
  brokerEventId: string;
}

export interface ExecutorDeps {
  state: ExecutionState;
  journal: Journal;
  writeBehind: WriteBehind;
  log: Logger;
  metrics: ExecutionMetrics;
  nowNs(): bigint;
  publish(update: OrderUpdateOut, order: Order | undefined, ctx: UpdateContext): void;
  /** intentEventTimeNs of an order (0 when unknown, e.g. restored after a restart). */
  intentTimeOf(clientOrderId: string): bigint;
  /** onJournalFailed: the journal cannot be written; the stage must stop trading. */
  onJournalFailed(err: Error): void;
  /** onChange: counters or open orders changed (report them). */
  onChange(): void;
  /**
   * mayAct: the leadership deadline (StageContext.leadership). IMPORTANT: asked right before
   * every send; a send it refuses is failed locally as rejected and never reaches the broker.
   */
  mayAct(): boolean;
  /** refused: a send was not made because mayAct() said no. */
  refused(clientOrderId: string): void;
}

interface Queued {
  command: ExecutionCommand;
  ctx: UpdateContext;
}

const NO_CONTEXT: UpdateContext = { positionQty: "", brokerEventId: "" };
/** The reject reasons counted under their own label; any other reject is the broker's. */
const LOCAL_REJECT_REASONS = new Set([...ENGINE_REFUSAL_REASONS, "retries_exhausted"]);

export class Executor {
  readonly #d: ExecutorDeps;
  #broker: BrokerCalls | undefined;
  /** Commands not yet run, in order; a step made while running appends behind them. */
  readonly #queue: Queued[] = [];
  /** Audit records of the running step not yet in the journal, and their encoded frames. */
  readonly #staged: AuditWrite[] = [];
  readonly #stagedPayloads: string[] = [];
  /**
   * Records journaled in the running step, handed to the write-behind when the step is over
   * (after its sends: the journal holds them already, and the write-behind's scheduling is not
   * order-path work), with the time each was journaled.
   */
  readonly #journaled: AuditWrite[] = [];
  readonly #journaledAt: bigint[] = [];
  #head = 0;
  #running = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #fenced = false;
  #broken = false;
  ordersSent = 0;

  constructor(deps: ExecutorDeps) {
    this.#d = deps;
  }

  set broker(b: BrokerCalls) {
    this.#broker = b;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** fence: another instance leads; nothing more runs. */
  fence(): void {
    this.#fenced = true;
    this.stop();
  }

  /**
   * step applies one event now and runs its commands in order before returning (a step made by
   * a command, e.g. a send refused locally, runs right after the commands already queued).
   */
  step(event: ExecutionEvent, ctx: UpdateContext = NO_CONTEXT): void {
    if (this.#fenced || this.#broken) return;
    const commands = stepExecution(this.#d.state, event);
    if (commands.length === 0) return;
    for (const command of commands) this.#queue.push({ command, ctx });
    if (this.#running) return;
    this.#running = true;
    try {
      const q = this.#queue;
      while (this.#head < q.length && !this.#fenced && !this.#broken) {
        const next = q[this.#head++]!;
        // A run of WriteAudit records is journaled in one write, before whatever follows.
        if (next.command.type !== "WriteAudit" && this.#staged.length > 0) {
          this.#flushJournal();
          if (this.#broken) break;
        }
        this.#run(next.command, next.ctx);
      }
      if (this.#staged.length > 0) this.#flushJournal();
    } finally {
      this.#staged.length = 0;
      this.#stagedPayloads.length = 0;
      this.#queue.length = 0;
      this.#head = 0;
      this.#running = false;
      this.#project();
    }
    this.#d.metrics.openOrders.set(this.#d.state.orders.size);
  }

  /** #project hands the step's journaled records to the write-behind (Postgres), in order. */
  #project(): void {
    const writes = this.#journaled;
    const at = this.#journaledAt;
    for (let i = 0; i < writes.length; i++) this.#d.writeBehind.push(writes[i]!, at[i]!);
    writes.length = 0;
    at.length = 0;
  }

  /** stop: no timers fire any more. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /**
   * #journalAudit stages one audit record (with its order as it stands now) for the journal;
   * the staged records are written together before the next command that is not a WriteAudit
   * (a SendOrder among them) runs, or at the end of the step.
   */
  #journalAudit(record: AuditWrite["record"]): void {
    const live = findOrder(this.#d.state, record.clientOrderId);
    if (live === undefined) return; // an order forgotten in the same step: nothing to store
    const write: AuditWrite = { record, order: { ...live } };
    this.#staged.push(write);
    this.#stagedPayloads.push(encodeAudit(write));
  }

  /** #flushJournal appends the staged records in one write and queues them for Postgres. */
  #flushJournal(): void {
    try {
      this.#d.journal.appendAll(this.#stagedPayloads);
    } catch (err) {
      // IMPORTANT: nothing after an audit record that is not in the journal may run.
      this.#staged.length = 0;
      this.#stagedPayloads.length = 0;
      this.#broken = true;
      this.stop();
      this.#d.onJournalFailed(err as Error);
      return;
    }
    const at = process.hrtime.bigint();
    for (const write of this.#staged) {
      this.#journaled.push(write);
      this.#journaledAt.push(at);
    }
    this.#staged.length = 0;
    this.#stagedPayloads.length = 0;
  }

  /**
   * #refuse: the shell's own gate kept the order from the broker. Published as the engine's
   * refusal (`not_sent`, reason one of ENGINE_REFUSAL_REASONS), never as a broker reject, so the
   * risk-manager's circuit breaker does not count it.
   */
  #refuse(clientOrderId: string, reason: "leadership_deadline" | "audit_backlog"): void {
    this.step({
      type: "SendFailed",
      timeNs: this.#d.nowNs(),
      clientOrderId,
      failure: "not_sent",
      httpStatus: null,
      message: reason,
    });
  }

  #run(c: ExecutionCommand, ctx: UpdateContext): void {
    const d = this.#d;
    switch (c.type) {
      case "SendOrder": {
        // The two gates in front of the broker: the leadership deadline, and (for a new order)
        // the audit backlog bound: a retry of an order already on the wire still goes.
        if (!d.mayAct()) {
          d.refused(c.request.clientOrderId);
          this.#refuse(c.request.clientOrderId, "leadership_deadline");
          return;
        }
        if (c.attempt === 1) {
          const halt = d.writeBehind.halted(process.hrtime.bigint());
          if (halt !== null) {
            d.log.warn(
              { clientOrderId: c.request.clientOrderId, halt },
              "order not sent: the audit backlog bound holds new orders",
            );
            this.#refuse(c.request.clientOrderId, "audit_backlog");
            return;
          }
        }
        faultPoint("after_journal_append");
        this.#broker!.send(c, d.intentTimeOf(c.request.clientOrderId));
        // Counted once the order is on the wire: nothing but the send between journal and socket.
        if (c.attempt === 1) {
          this.ordersSent++;
          (c.request.side === "buy" ? d.metrics.submittedBuy : d.metrics.submittedSell).inc();
        } else {
          d.metrics.retries.inc();
        }
        d.onChange();
        return;
      }
      case "ScheduleRetry": {
        if (this.#stopped) return;
        const ms = Math.max(0, Number((c.atNs - d.nowNs()) / 1_000_000n));
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!this.#stopped) {
            this.step({ type: "RetryDue", timeNs: d.nowNs(), clientOrderId: c.clientOrderId });
          }
        }, ms);
        this.#timers.add(timer);
        return;
      }
      case "ResolveOrder":
        this.#broker!.resolve(c.clientOrderId);
        return;
      case "CancelOrder":
        this.#broker!.cancel(c);
        return;
      case "PublishOrderUpdate": {
        const u = c.update;
        if (u.status === "Rejected") {
          d.metrics.rejects.labels(LOCAL_REJECT_REASONS.has(u.reason) ? u.reason : "broker").inc();
        }
        d.publish(u, findOrder(d.state, u.clientOrderId), ctx);
        d.onChange();
        return;
      }
      case "ReportAnomaly":
        d.metrics.anomalies.labels(c.kind).inc();
        d.log.warn({ kind: c.kind, clientOrderId: c.clientOrderId }, c.message);
        return;
      case "WriteAudit":
        this.#journalAudit(c.record);
        return;
    }
  }

  /** retryLater re-runs `fn` after `ms` unless the executor stopped (lookups that failed). */
  later(ms: number, fn: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) fn();
    }, ms);
    this.#timers.add(timer);
  }
}
