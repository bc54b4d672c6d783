/**
 * execution-engine stage shell: approved `order.intent/<SYM>` → the order core → Alpaca REST,
 * with the trade_updates stream folded back in and every order event published as
 * `order.update/<SYM>`. Last prices come from `md.quote/*` and `md.trade/*` (slippage guard),
 * the kill switch from `control` (and, at start, the spec and risk_state).
 *
 * The order path is journal-ahead (executor.ts): audit records are appended to a local journal
 * and the order is written to the broker in the same synchronous run; Postgres is written
 * behind (write-behind.ts), and new orders stop while that backlog is over its bound.
 *
 * Start-up is a recovery (recovery.ts): journals older terms left are replayed into Postgres,
 * the broker's recent orders of this pipeline that Postgres lacks are adopted, the core is
 * rebuilt from Postgres (unfinished orders, recent finished ones, the audit sequence), the
 * trade_updates stream is opened, every unfinished order is resolved with the broker, and
 * positions are compared. Until that is done the readiness check "recovered" is false and
 * intents wait in a queue; none is turned into an order before.
 */
import { unlink } from "node:fs/promises";
import {
  createAlpacaClient,
  type TradeUpdateHandlers,
  type WireTradeUpdate,
} from "../alpaca-client/index.ts";
import { allOf, Topics, topic } from "../core/bus/topics.ts";
import { publishMessage, subscribeMessages } from "../core/bus/typed.ts";
import { TradepipeError } from "../core/errors.ts";
import { INTENT_VOID_AFTER_MS } from "../core/intent-lifetime.ts";
import {
  ControlCommand,
  ControlSchema,
  type Header,
  headerFrom,
  OrderUpdateSchema,
  RiskStateSchema,
  TradeSchema,
} from "../core/messages/index.ts";
import { fromDecimal } from "../core/money.ts";
import { afterRun } from "../core/telemetry/index.ts";
import { subscribeQuotes } from "../market-data/quote-wire.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { emptyIntentFields, type IntentFields, readIntent } from "../risk-manager/wire.ts";
import { createBrokerCalls } from "./broker.ts";
import { serveCancelAllRequests } from "./cancel-all.ts";
import {
  clientOrderIdFor,
  DEFAULT_EXECUTION_EXTRAS,
  type ExecutionParams,
  findOrder,
  type OrderApproved,
  type QuoteReceived,
  restoreExecutionState,
  type TradeReceived,
} from "./core/index.ts";
import { fetchOrderExecutions } from "./executions.ts";
import { Executor } from "./executor.ts";
import { executionMetrics } from "./metrics.ts";
import {
  adoptBrokerOrders,
  checkPositions,
  journalDir,
  openJournal,
  replayJournals,
} from "./recovery.ts";
import { executionParamsFromSpec } from "./spec-params.ts";
import { ExecutionStore, STAGE } from "./store.ts";
import { approvalFromIntent, orderUpdateMessage, tradeUpdated } from "./wire.ts";
import { type FetchExecutions, WriteBehind } from "./write-behind.ts";

/** Tunables of the shell; the defaults are what `tradepipe run` uses. */
export const EXECUTION_SETTINGS = {
  /** Intents that arrive before recovery is done wait here (oldest dropped beyond this). */
  maxQueuedIntents: 1_000,
  /** A failed lookup is tried again after this long (doubling, capped at 10 s). */
  lookupRetryMs: 500,
  /** stop() waits this long for queued writes and broker answers. */
  stopDrainMs: 3_000,
  /**
   * Audit backlog bound: new orders stop while this many records wait for Postgres, or the
   * oldest has waited this long; they resume once it drains.
   */
  auditBacklogMaxRows: 10_000,
  auditBacklogMaxSeconds: 10,
  /** Records per write-behind statement. */
  auditBatchMax: 1_000,
  /**
   * Dedicated kept-alive order connections (one order in flight each); an order that finds
   * none idle goes through undici, a turn later. Four: a burst of orders while earlier answers
   * are still on their way (tens of ms from Alpaca) should find one idle; an idle connection
   * costs one socket. 0 sends every order through undici.
   */
  orderConnections: 4,
};

interface IntentInfo {
  /** The intent's header: event time, origin time (tick → order) and trace, carried on. */
  header: Pick<Header, "eventTimeNs" | "originTimeNs" | "traceparent">;
  receivedNs: bigint;
}

export const stage: StageDefinition = {
  name: "execution-engine",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log, pipeline } = ctx;
    const spec = pipeline.spec;
    const params: ExecutionParams = executionParamsFromSpec(pipeline, ctx.broker.credentials.keyId);
    const metrics = executionMetrics(ctx.metrics);
    const store = new ExecutionStore(ctx.db, ctx.epoch);
    ctx.readiness.declare("recovered", "auditBacklog");
    ctx.readiness.set("recovered", false, "replaying the journal into Postgres");
    ctx.readiness.set("auditBacklog", true);
    metrics.recovered.set(0);
    metrics.auditBacklogHalted.set(0);
    // Every client_order_id of this pipeline starts with "tp-<8 hex of its order-id scope>-".
    const ownPrefix = clientOrderIdFor(params.pipelineName, "x").slice(0, 12);

    const client = createAlpacaClient({
      endpoints: ctx.broker.endpoints,
      credentials: ctx.broker.credentials,
      // Orders go out on dedicated kept-alive connections, written in the run that decided them
      // (services/alpaca-client, "The dedicated order connection").
      rest: {
        rateLimitPerMinute: spec.execution.maxOrdersPerMinute,
        orderConnections: EXECUTION_SETTINGS.orderConnections,
      },
    });
    /** An order's executions for a fill with a gap; null (one synthesized row) if unreadable. */
    const fetchExecutions: FetchExecutions = (order, filledQty) =>
      fetchOrderExecutions(client.trading, order, filledQty).catch((err: unknown) => {
        log.warn(
          { clientOrderId: order.clientOrderId, err: (err as Error).message },
          "could not read the order's FILL activities: its fill is recorded as one row",
        );
        return null;
      });
    // ---- recovery before anything is rebuilt: the journal, then the broker's listing ----------
    const dir = journalDir();
    const dbId = await store.databaseIdentity();
    const replay = await replayJournals({
      dir,
      prefix: ownPrefix,
      epoch: ctx.epoch,
      dbId,
      store,
      log,
      fetchExecutions,
    });
    ctx.readiness.set("recovered", false, "adopting the broker's orders Postgres lacks");
    const adoption = await adoptBrokerOrders({
      trading: client.trading,
      store,
      prefix: ownPrefix,
      nowNs: ctx.nowNs(),
      log,
    });
    if (adoption.adopted.length > 0) {
      metrics.anomalies.labels("adopted_from_broker").inc(adoption.adopted.length);
    }
    log.info(
      { dir, replay, listed: adoption.listed, adopted: adoption.adopted.length },
      "journal replayed and broker orders adopted",
    );
    ctx.readiness.set("recovered", false, "rebuilding orders from Postgres");

    const { orders, lastSeq } = await store.loadOrders(DEFAULT_EXECUTION_EXTRAS.terminalRetention);
    const killSwitch = spec.killSwitch || (await store.killSwitchEngaged());
    const state = restoreExecutionState(params, orders, killSwitch, lastSeq);
    log.info(
      { epoch: ctx.epoch, restored: orders.length, unfinished: state.orders.size, killSwitch },
      "execution state rebuilt from Postgres",
    );

    const intents = new Map<string, IntentInfo>();
    const updateTopics = new Map<string, string>();
    const pendingRecovery = new Set<string>();
    const queuedIntents: Array<{ m: IntentFields; receivedNs: bigint }> = [];
    let recovered = false;
    let recoveryStarted = false;
    let stopped = false;
    let fills = 0;
    let backlogHalt: string | null = null;
    let missingDecisionLogged = false;

    const report = (detail?: string) => {
      const halted = state.killSwitch;
      metrics.halted.set(halted ? 1 : 0);
      ctx.report({
        ordersSent: exec.ordersSent,
        fills,
        openOrders: state.orders.size,
        killSwitch: halted,
        halted,
        recovered,
        fenced: exec.fenced,
        auditBacklog: writeBehind.backlogRows,
        ordersHeld: backlogHalt !== null,
        ...(detail !== undefined
          ? { detail }
          : backlogHalt !== null
            ? { detail: `orders held: ${backlogHalt}` }
            : {}),
      });
    };

    /**
     * reportSoon: counters changed inside a step (an order sent, an update published). The report
     * is made once, right after the synchronous run that changed them: not on the order path.
     */
    const reportSoon = afterRun(() => report());

    const onFenced = (err: Error) => {
      log.error(
        { err: err.message },
        "a write was refused for a stale fencing epoch: stepping down",
      );
      exec.fence();
      ctx.readiness.set("recovered", false, "fenced: another instance leads this stage");
      void shutdown();
      report("fenced");
    };
    const writeBehind = new WriteBehind({
      store,
      log,
      metrics,
      limits: {
        maxRows: EXECUTION_SETTINGS.auditBacklogMaxRows,
        maxSeconds: EXECUTION_SETTINGS.auditBacklogMaxSeconds,
        maxBatch: EXECUTION_SETTINGS.auditBatchMax,
      },
      fetchExecutions,
      onCommitted(inserted) {
        fills += inserted;
        metrics.fills.inc(inserted);
        report();
      },
      onFenced,
      onHaltChanged(reason) {
        backlogHalt = reason;
        if (reason === null) {
          log.info("audit backlog drained below its bound: new orders resume");
          ctx.readiness.set("auditBacklog", true);
        } else {
          log.error({ reason }, "new orders held: the audit backlog is over its bound");
          ctx.readiness.set("auditBacklog", false, `new orders held: ${reason}`);
        }
        report();
      },
    });
    // A journal that cannot be written (a full or failing disk) ends this stage: it stops
    // trading, drains what it can, then fails, so its process exits and its supervisor restarts
    // it with backoff (host.ts); the next start replays the journal and trades again once the
    // disk takes writes.
    let failStage: (err: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      failStage = reject;
    });
    failed.catch(() => {});
    const failOnItsOwn = (message: string, cause: Error) => {
      void shutdown().finally(() =>
        failStage(new TradepipeError("TP_ERR_JOURNAL", message, { cause })),
      );
    };
    const { journal, path: journalPath } = openJournal({
      dir,
      prefix: ownPrefix,
      epoch: ctx.epoch,
      dbId,
      nowNs: ctx.nowNs(),
      onSyncError(err) {
        log.error({ err: err.message, journalPath }, "journal fsync failed: trading stops");
        exec.fence();
        ctx.readiness.set("recovered", false, `journal fsync failed: ${err.message}`);
        failOnItsOwn(`journal fsync failed: ${err.message}`, err);
      },
    });

    const exec: Executor = new Executor({
      state,
      journal,
      writeBehind,
      log,
      metrics,
      nowNs: ctx.nowNs,
      intentTimeOf: (id) => intents.get(id)?.header.eventTimeNs ?? 0n,
      publish(u, order, extra) {
        const info = intents.get(u.clientOrderId);
        const header = headerFrom(STAGE, info?.header, u.timeNs);
        let t = updateTopics.get(u.symbol);
        if (t === undefined) {
          t = topic(Topics.orderUpdate, u.symbol);
          updateTopics.set(u.symbol, t);
        }
        const msg = orderUpdateMessage(u, header, {
          brokerOrderId: order?.brokerOrderId ?? "",
          positionQty: extra.positionQty,
          brokerEventId: extra.brokerEventId,
        });
        publishMessage(bus, t, OrderUpdateSchema, msg);
        if (u.terminal) intents.delete(u.clientOrderId);
      },
      onJournalFailed(err) {
        log.error({ err: err.message, journalPath }, "journal append failed: trading stops");
        ctx.readiness.set("recovered", false, `journal append failed: ${err.message}`);
        report("journal append failed");
        failOnItsOwn(`journal append failed: ${err.message}`, err);
      },
      onChange: reportSoon,
      mayAct: () => ctx.leadership.mayAct(),
      refused: (id) => ctx.leadership.refused(`order ${id}`),
    });

    let lookupDelay = EXECUTION_SETTINGS.lookupRetryMs;
    const broker = createBrokerCalls({
      trading: client.trading,
      nowNs: ctx.nowNs,
      deliver(event) {
        exec.step(event);
        if (event.type === "OrderResolved" && pendingRecovery.delete(event.clientOrderId)) {
          lookupDelay = EXECUTION_SETTINGS.lookupRetryMs;
          if (pendingRecovery.size === 0) finishRecovery();
        }
      },
      onSent(id) {
        const info = intents.get(id);
        if (info !== undefined && info.receivedNs > 0n) {
          metrics.submitLatency.observe(Number(process.hrtime.bigint() - info.receivedNs) / 1e9);
          info.receivedNs = 0n; // a retry is neither an intake nor a tick → order latency
          // Tick → order: from the wall-clock time market-data read the tick's frame (carried in
          // the headers of the quote, the signal and the intent). Another process's clock on
          // this host may differ by a few µs: never below 0.
          const origin = info.header.originTimeNs;
          if (origin > 0n) {
            const ns = ctx.nowNs() - origin;
            metrics.tickToOrder.observe(ns > 0n ? Number(ns) / 1e9 : 0);
          }
        }
      },
      onLookupFailed(id, err) {
        log.warn({ clientOrderId: id, err: err.message, retryInMs: lookupDelay }, "lookup failed");
        exec.later(lookupDelay, () => {
          callsMade(1);
          broker.resolve(id);
        });
        lookupDelay = Math.min(lookupDelay * 2, 10_000);
      },
    });
    exec.broker = broker;

    // ---- bus inputs ------------------------------------------------------------------------
    const quote: QuoteReceived = {
      type: "QuoteReceived",
      timeNs: 0n,
      symbol: "",
      bid: 0n,
      ask: 0n,
    };
    const trade: TradeReceived = { type: "TradeReceived", timeNs: 0n, symbol: "", price: 0n };
    const symbols = spec.symbols;
    // The order path's inputs (quotes, before the intent they lead to; intents) are the
    // publishers' own copies in-process (BusMessage.value), else read by the hand-written
    // decoders into reused objects: no message tree per tick.
    const intentFields = emptyIntentFields();
    let invalidLogged = false;
    const onInvalid = (err: Error, what: string) => {
      metrics.rejects.labels("undecodable").inc();
      if (invalidLogged) return;
      invalidLogged = true;
      log.error({ err: err.message }, `undecodable ${what} (counted, dropped)`);
    };
    const subscriptions = [
      subscribeQuotes(
        bus,
        symbols.map((s) => topic(Topics.quote, s)),
        (q) => {
          if (q.bidPrice === "" && q.askPrice === "") return;
          quote.timeNs = ctx.nowNs();
          quote.symbol = q.symbol;
          quote.bid = q.bidPrice === "" ? 0n : fromDecimal(q.bidPrice);
          quote.ask = q.askPrice === "" ? 0n : fromDecimal(q.askPrice);
          exec.step(quote);
        },
        (err) => onInvalid(err, "quote"),
      ),
      subscribeMessages(
        bus,
        symbols.map((s) => topic(Topics.trade, s)),
        TradeSchema,
        (t) => {
          if (t.price === "") return;
          trade.timeNs = ctx.nowNs();
          trade.symbol = t.symbol;
          trade.price = fromDecimal(t.price);
          exec.step(trade);
        },
      ),
      subscribeMessages(bus, allOf(Topics.control), ControlSchema, (c) => {
        if (c.command === ControlCommand.KILL_SWITCH_ON)
          setKillSwitch(true, c.requestedBy, c.reason);
        if (c.command === ControlCommand.KILL_SWITCH_OFF)
          setKillSwitch(false, c.requestedBy, c.reason);
      }),
      // The risk-manager's periodic state repeats the kill switch: a control message missed
      // (a subscriber that joined late) is made good by the next RiskState.
      subscribeMessages(bus, allOf(Topics.riskState), RiskStateSchema, (r) => {
        setKillSwitch(r.killSwitch, "risk-manager", "risk state");
      }),
      bus.subscribe(allOf(Topics.orderIntent), (message) => {
        const receivedNs = process.hrtime.bigint();
        if (stopped) return;
        let m: IntentFields;
        try {
          m = readIntent(message, intentFields);
        } catch (err) {
          onInvalid(err as Error, "order intent");
          return;
        }
        if (!recovered) {
          if (queuedIntents.length >= EXECUTION_SETTINGS.maxQueuedIntents) queuedIntents.shift();
          // The decoded fields are reused by the next intent: a queued one keeps a copy.
          queuedIntents.push({ m: { ...m }, receivedNs });
          return;
        }
        intake(m, receivedNs);
      }),
    ];

    /** callsMade: broker calls the shell makes itself count in the core's per-minute window. */
    function callsMade(count: number): void {
      if (count > 0) exec.step({ type: "BrokerCallsMade", timeNs: ctx.nowNs(), count });
    }

    function setKillSwitch(engaged: boolean, by: string, reason: string): void {
      if (engaged === state.killSwitch || stopped) return;
      log.warn({ engaged, by, reason }, "kill switch changed");
      exec.step({ type: "KillSwitchChanged", timeNs: ctx.nowNs(), engaged });
      report(engaged ? "halted: kill switch engaged" : "");
    }

    function intake(m: IntentFields, receivedNs: bigint): void {
      const approval = approvalFromIntent(m, ctx.nowNs());
      if (!("type" in approval)) {
        if (approval.reason === "not_approved") return;
        metrics.rejects.labels(approval.reason).inc();
        log.error({ signalId: m.signalId, reason: approval.reason }, approval.message);
        return;
      }
      const id = clientOrderIdFor(params.pipelineName, approval.signalId);
      if (m.clientOrderId !== "" && m.clientOrderId !== id) {
        metrics.rejects.labels("client_order_id_mismatch").inc();
        log.error(
          { signalId: m.signalId, got: m.clientOrderId, expected: id },
          "intent dropped: its client_order_id is not this pipeline's id for the signal",
        );
        return;
      }
      if (approval.decisionPrice === 0n) useLastPrice(approval);
      if (findOrder(state, id) === undefined) {
        const header = {
          eventTimeNs: m.eventTimeNs,
          originTimeNs: m.originTimeNs,
          traceparent: m.traceparent,
        };
        intents.set(id, { header, receivedNs });
      }
      exec.step(approval);
    }

    function useLastPrice(a: OrderApproved): void {
      a.decisionPrice = state.lastPrices.get(a.symbol) ?? 0n;
      if (!missingDecisionLogged) {
        missingDecisionLogged = true;
        log.warn(
          { signalId: a.signalId },
          "intent without decision_price: the last price stands in, so the slippage guard cannot refuse it",
        );
      }
    }

    // ---- broker stream and recovery ---------------------------------------------------------
    // The process's kept stream when there is one: it stays open through a database outage
    // (what arrived meanwhile comes after onReady); else this term's own.
    const openTradeUpdates = (handlers: TradeUpdateHandlers) =>
      ctx.streams
        ? ctx.streams.tradeUpdates(
            { endpoints: ctx.broker.endpoints, credentials: ctx.broker.credentials },
            handlers,
          )
        : client.tradeUpdates(handlers);
    const stream = openTradeUpdates({
      onTradeUpdate(u: WireTradeUpdate) {
        // Orders of other pipelines or placed by hand on the same account are not ours.
        if (!u.order?.client_order_id?.startsWith(ownPrefix)) return;
        let event: ReturnType<typeof tradeUpdated>;
        try {
          event = tradeUpdated(u, ctx.nowNs());
        } catch (err) {
          log.warn({ err: (err as Error).message, event: u.event }, "undecodable trade update");
          return;
        }
        exec.step(event, {
          positionQty: u.position_qty ?? "",
          brokerEventId: u.execution_id ?? "",
        });
      },
      onReady() {
        if (!recoveryStarted) {
          recoveryStarted = true;
          void beginRecovery();
          return;
        }
        // Events sent while disconnected are lost: look every live order up again.
        log.warn({ live: state.orders.size }, "trade_updates reconnected: resolving live orders");
        const live = [...state.orders.values()].filter((o) => o.awaiting === "none");
        callsMade(live.length);
        for (const o of live) broker.resolve(o.clientOrderId);
      },
      onDisconnect(reason, retryInMs) {
        log.warn({ reason, retryInMs }, "trade_updates disconnected");
      },
      onError(err) {
        log.error({ err: err.message }, "trade_updates error");
      },
    });

    async function beginRecovery(): Promise<void> {
      if (recovered || stopped) return;
      ctx.readiness.set("recovered", false, "resolving unfinished orders with the broker");
      for (const id of state.orders.keys()) pendingRecovery.add(id);
      await reportUnknownOpenOrders();
      exec.step({ type: "Started", timeNs: ctx.nowNs() });
      if (pendingRecovery.size === 0) finishRecovery();
    }

    async function reportUnknownOpenOrders(): Promise<void> {
      callsMade(1);
      try {
        const open = await client.trading.listOrders({ status: "open", limit: 500 });
        for (const o of open) {
          if (o.client_order_id.startsWith(ownPrefix) && !state.orders.has(o.client_order_id)) {
            metrics.anomalies.labels("unknown_open_order").inc();
            log.error(
              { clientOrderId: o.client_order_id, brokerOrderId: o.id, status: o.status },
              "the broker holds an open order of this pipeline that Postgres does not know",
            );
          }
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, "could not list open orders at the broker");
      }
    }

    let finishing = false;
    function finishRecovery(): void {
      if (recovered || stopped || finishing) return;
      finishing = true;
      void positionsThenTrade();
    }

    /**
     * positionsThenTrade: with every unfinished order resolved, the rows those lookups made are
     * committed (briefly waited for) and the broker's positions compared with the stored fills;
     * only then does the engine take intents.
     */
    async function positionsThenTrade(): Promise<void> {
      ctx.readiness.set("recovered", false, "checking positions against the broker");
      await writeBehind.drained(EXECUTION_SETTINGS.stopDrainMs);
      try {
        callsMade(1);
        const { mismatches } = await checkPositions({
          trading: client.trading,
          store,
          prefix: ownPrefix,
          symbols: spec.symbols,
        });
        for (const m of mismatches) {
          metrics.anomalies.labels("position_mismatch").inc();
          log.error(
            m,
            "the broker's position differs from this pipeline's stored fills (the position-tracker reconciles)",
          );
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, "could not read the broker's positions");
      }
      tradeNow();
    }

    function tradeNow(): void {
      if (recovered || stopped) return;
      recovered = true;
      metrics.recovered.set(1);
      ctx.readiness.set("recovered", true);
      log.info({ queuedIntents: queuedIntents.length, open: state.orders.size }, "recovered");
      report(state.killSwitch ? "halted: kill switch engaged" : "");
      // An intent queued longer than its lifetime is dropped, not sent: the risk-manager has
      // written it off by now (services/core/intent-lifetime.ts), and its decision is stale.
      const voidBefore = process.hrtime.bigint() - BigInt(INTENT_VOID_AFTER_MS) * 1_000_000n;
      const queued = queuedIntents.splice(0);
      const stale = queued.filter((q) => q.receivedNs < voidBefore);
      if (stale.length > 0) {
        metrics.anomalies.labels("intent_void").inc(stale.length);
        log.warn(
          { count: stale.length, signalIds: stale.slice(0, 10).map((q) => q.m.signalId) },
          "intents queued during recovery for longer than their lifetime: dropped, not sent",
        );
      }
      for (const q of queued) if (q.receivedNs >= voidBefore) intake(q.m, q.receivedNs);
    }

    stream.start();
    report(killSwitch ? "halted: kill switch engaged" : "recovering");
    const cancelAllRequests = serveCancelAllRequests(ctx.db, {
      log,
      cancelAll: () => {
        const open = state.orders.size;
        if (!stopped) exec.step({ type: "CancelAllRequested", timeNs: ctx.nowNs() });
        return open;
      },
    });

    let stopping: Promise<void> | undefined;
    function shutdown(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        for (const s of subscriptions) s.unsubscribe();
        exec.stop();
        const deadline = Date.now() + EXECUTION_SETTINGS.stopDrainMs;
        while (Date.now() < deadline && broker.inFlight > 0) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const drained = await writeBehind.drained(Math.max(0, deadline - Date.now()));
        writeBehind.stop();
        journal.close();
        if (drained && !exec.fenced) {
          // Everything it held is committed in Postgres: nothing to replay.
          await unlink(journalPath).catch(() => {});
        } else {
          log.warn(
            { journalPath, backlog: writeBehind.backlogRows },
            "stopped with audit records not in Postgres: the next start replays the journal",
          );
        }
        await cancelAllRequests.stop();
        await stream.close().catch(() => {});
        await client.close().catch(() => {});
      })();
      return stopping;
    }

    return { stop: shutdown, failed };
  },
};
