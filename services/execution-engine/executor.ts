/**
 * executor runs the execution core for the stage shell: every event goes through
 * `stepExecution` synchronously, and the commands it returns are carried out strictly in order
 * from one queue. Consecutive WriteAudit commands are committed together as one batch, and
 * nothing after them (a SendOrder, a publish, a cancel) runs until that commit succeeded.
 *
 * IMPORTANT: the audit commit gates everything behind it. A database that cannot be written
 * stops the engine (the batch is retried; nothing is sent meanwhile). A write refused for a
 * stale fencing epoch means another instance leads: the executor stops for good.
 */

import { isStaleEpochError } from "../core/db/errors.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { BrokerCalls } from "./broker.ts";
import {
  type ExecutionCommand,
  type ExecutionEvent,
  type ExecutionState,
  findOrder,
  type Order,
  type OrderUpdateOut,
  stepExecution,
} from "./core/index.ts";
import { type ExecutionRow, gapOf } from "./fill-rows.ts";
import type { ExecutionMetrics } from "./metrics.ts";
import type { AuditWrite, ExecutionStore } from "./store.ts";

/** UpdateContext: what the shell knew about the event behind a published update. */
export interface UpdateContext {
  positionQty: string;
  brokerEventId: string;
}

export interface ExecutorDeps {
  state: ExecutionState;
  store: ExecutionStore;
  log: Logger;
  metrics: ExecutionMetrics;
  nowNs(): bigint;
  publish(update: OrderUpdateOut, order: Order | undefined, ctx: UpdateContext): void;
  /** intentEventTimeNs of an order (0 when unknown, e.g. restored after a restart). */
  intentTimeOf(clientOrderId: string): bigint;
  /** onFenced: another instance leads; the stage must stop acting. */
  onFenced(err: Error): void;
  /** onChange: counters or open orders changed (report them). */
  onChange(): void;
  /**
   * fetchExecutions reads an order's broker executions (FILL activities) when a fill has a gap
   * (`fill-rows.ts`); null when they cannot be read or do not yet cover `filledQty`.
   */
  fetchExecutions?(order: Order, filledQty: string): Promise<ExecutionRow[] | null>;
  /**
   * mayAct: the leadership deadline (StageContext.leadership). IMPORTANT: asked right before
   * every send; a send it refuses is failed locally as rejected and never reaches the broker.
   */
  mayAct(): boolean;
  /** refused: a send was not made because mayAct() said no. */
  refused(clientOrderId: string): void;
}

type Queued =
  | { kind: "audit"; write: AuditWrite }
  | { kind: "command"; command: ExecutionCommand; ctx: UpdateContext };

const NO_CONTEXT: UpdateContext = { positionQty: "", brokerEventId: "" };
const LOCAL_REJECT_REASONS = new Set([
  "kill_switch",
  "no_last_price",
  "slippage",
  "rate_limited",
  "opposite_working_order",
  "retries_exhausted",
]);

export class Executor {
  readonly #d: ExecutorDeps;
  #broker: BrokerCalls | undefined;
  readonly #queue: Queued[] = [];
  #head = 0;
  #draining: Promise<void> | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Orders whose audit rows the database refused: none of their commands runs. */
  readonly #poisoned = new Set<string>();
  #stopped = false;
  #fenced = false;
  #abandoned = false;
  ordersSent = 0;
  fills = 0;

  constructor(deps: ExecutorDeps) {
    this.#d = deps;
  }

  set broker(b: BrokerCalls) {
    this.#broker = b;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** step applies one event now and queues its commands; `ctx` travels with its publishes. */
  step(event: ExecutionEvent, ctx: UpdateContext = NO_CONTEXT): void {
    if (this.#fenced || this.#abandoned) return;
    const commands = stepExecution(this.#d.state, event);
    if (commands.length === 0) return;
    let snapshots: Map<string, Order> | undefined;
    for (const command of commands) {
      if (command.type === "WriteAudit") {
        const id = command.record.clientOrderId;
        snapshots ??= new Map();
        let order = snapshots.get(id);
        if (order === undefined) {
          const live = findOrder(this.#d.state, id);
          if (live === undefined) continue; // an order forgotten in the same step: nothing to store
          order = { ...live };
          snapshots.set(id, order);
        }
        this.#queue.push({ kind: "audit", write: { record: command.record, order } });
      } else {
        this.#queue.push({ kind: "command", command, ctx });
      }
    }
    this.#d.metrics.openOrders.set(this.#d.state.orders.size);
    this.#kick();
  }

  /** idle resolves once every queued command has run (or the executor stopped). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** stop: no timers fire any more; commands already queued still run (drain with idle()). */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #kick(): void {
    if (this.#draining === undefined) {
      this.#draining = this.#drain().finally(() => {
        this.#draining = undefined;
      });
    }
  }

  async #drain(): Promise<void> {
    const q = this.#queue;
    while (this.#head < q.length && !this.#fenced && !this.#abandoned) {
      const first = q[this.#head]!;
      if (first.kind === "audit") {
        const batch: AuditWrite[] = [];
        while (this.#head < q.length && q[this.#head]!.kind === "audit") {
          batch.push((q[this.#head++] as { write: AuditWrite }).write);
        }
        await this.#commit(batch);
      } else {
        this.#head++;
        this.#run(first.command, first.ctx);
      }
      if (this.#head > 1024 && this.#head * 2 > q.length) {
        q.splice(0, this.#head);
        this.#head = 0;
      }
    }
    if (this.#fenced || this.#abandoned) {
      q.length = 0;
      this.#head = 0;
    }
  }

  /** commit writes one batch, retrying until it lands; a stale epoch fences the executor. */
  async #commit(batch: AuditWrite[]): Promise<void> {
    if (this.#fenced) return;
    const fetch = this.#d.fetchExecutions;
    if (fetch !== undefined) {
      // Rare (a fill learnt from a lookup, or executions the stream skipped): read the order's
      // executions so each is recorded as its own fill row.
      for (const w of batch) {
        if (w.executions !== undefined || gapOf(w.record) <= 0n || !w.order.brokerOrderId) continue;
        w.executions = await fetch(w.order, w.record.detail.filledQty ?? "0");
      }
    }
    let delayMs = 100;
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        const inserted = await this.#d.store.writeBatch(batch);
        this.#d.metrics.auditWrite.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        if (inserted > 0) {
          this.fills += inserted;
          this.#d.metrics.fills.inc(inserted);
          this.#d.onChange();
        }
        return;
      } catch (err) {
        if (isStaleEpochError(err)) {
          this.#fenced = true;
          this.stop();
          this.#d.onFenced(err as Error);
          return;
        }
        if (isDataError(err)) {
          const groups = Map.groupBy(batch, (w) => w.record.clientOrderId);
          if (groups.size > 1) {
            // Find the order whose rows are refused; the others are written on their own.
            for (const group of groups.values()) await this.#commit(group);
            return;
          }
          // The rows themselves are refused (a constraint): retrying cannot help. Their orders
          // are set aside so nothing of theirs reaches the broker without its audit rows.
          for (const w of batch) this.#poisoned.add(w.record.clientOrderId);
          this.#d.metrics.anomalies.labels("audit_write_refused").inc();
          this.#d.log.error(
            {
              err: (err as Error).message,
              orders: [...new Set(batch.map((w) => w.record.clientOrderId))],
            },
            "the database refused an audit batch: its orders are set aside",
          );
          return;
        }
        this.#d.log.error(
          { err: (err as Error).message, retryInMs: delayMs, records: batch.length },
          "audit write failed: holding every later command until it succeeds",
        );
        if (this.#stopped && delayMs >= 1600) {
          // Stopping with the database down: give the batch up, and with it every command
          // queued behind it (IMPORTANT: never run a send whose audit rows were not written).
          this.#abandoned = true;
          this.#d.log.error(
            { err: (err as Error).message, records: batch.length },
            "audit writes abandoned at stop; nothing queued after them runs",
          );
          return;
        }
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }

  #run(c: ExecutionCommand, ctx: UpdateContext): void {
    const d = this.#d;
    if (this.#poisoned.size > 0 && this.#poisoned.has(commandOrderId(c))) return;
    switch (c.type) {
      case "SendOrder": {
        // The one gate in front of the broker. The journal-ahead order path adds its second
        // bound here: refuse once the audit backlog not yet projected into Postgres is full.
        if (!d.mayAct()) {
          d.refused(c.request.clientOrderId);
          this.step({
            type: "SendFailed",
            timeNs: d.nowNs(),
            clientOrderId: c.request.clientOrderId,
            // Refused here, before the broker: no verdict on the broker path (the risk-manager's
            // circuit breaker does not count it).
            failure: "not_sent",
            httpStatus: null,
            message: "leadership_deadline",
          });
          return;
        }
        if (c.attempt === 1) {
          this.ordersSent++;
          (c.request.side === "buy" ? d.metrics.submittedBuy : d.metrics.submittedSell).inc();
        } else {
          d.metrics.retries.inc();
        }
        this.#broker!.send(c, d.intentTimeOf(c.request.clientOrderId));
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
        return; // queued as audit entries, never here
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

function commandOrderId(c: ExecutionCommand): string {
  switch (c.type) {
    case "SendOrder":
      return c.request.clientOrderId;
    case "PublishOrderUpdate":
      return c.update.clientOrderId;
    case "WriteAudit":
      return c.record.clientOrderId;
    default:
      return c.clientOrderId;
  }
}

/** isDataError: SQLSTATE class 22 (data exception) or 23 (integrity constraint violation). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}
