/**
 * position-tracker stage shell: `order.update/*` fills and `md.quote/*` quotes → the core →
 * `position.update/<SYM>` PositionUpdates, the `position.portfolio` PortfolioUpdate (totals,
 * drawdown and the reconciliation gate the risk-manager trades behind) and a `control`
 * DRAWDOWN_ALERT; positions upserted and snapshots written with the leader's fencing epoch.
 *
 * Start: restore the equity peak from the latest portfolio snapshot, replay every stored fill,
 * then go live and reconcile with the broker (GET /v2/account + /v2/positions) — at start, every
 * reconcileIntervalSeconds, and again soon after a break (fills in flight can cause a false one),
 * first catching up with any stored fill it missed. Until a reconciliation passes, /ready is
 * false ("reconciled") and can_trade is false.
 */
import { createAlpacaClient } from "../alpaca-client/index.ts";
import { Topics, topic } from "../core/bus/topics.ts";
import { publishMessage, subscribeDecoded } from "../core/bus/typed.ts";
import {
  ControlSchema,
  newHeader,
  OrderUpdateSchema,
  PortfolioUpdateSchema,
  PositionUpdateSchema,
} from "../core/messages/index.ts";
import { type Fixed, toDecimal, toNumber, ZERO } from "../core/money.ts";
import { emptyQuoteFields, type QuoteFields, readQuote } from "../market-data/quote-wire.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import {
  averageCost,
  drawdownOf,
  equityOf,
  type PortfolioView,
  type PositionCommand,
  type PositionEvent,
  type QuoteReceived,
  restorePositionState,
  stepPositions,
} from "./core/index.ts";
import { portfolioView, positionView } from "./core/state.ts";
import {
  breaksDetail,
  decimalField,
  drawdownControl,
  fillFromOrderUpdate,
  portfolioMessage,
  positionMessage,
  SOURCE,
} from "./messages.ts";
import { trackerMetrics } from "./metrics.ts";
import { startReconciler } from "./reconciler.ts";
import { positionParamsFromSpec } from "./spec-params.ts";
import { loadLastPortfolioSnapshot, loadStoredFills, positionStore } from "./store.ts";

/** FILL_CATCH_UP_MS: how often fills stored in the database are checked for ones the bus missed. */
const FILL_CATCH_UP_MS = 1000;
/** FILL_CATCH_UP_OVERLAP: how many rows before the last one seen each look reads again. */
const FILL_CATCH_UP_OVERLAP = 200n;

/** RECHECK_AFTER_BREAK_MS: how soon a reconciliation that found a break (or failed) is retried. */
export const RECHECK_AFTER_BREAK_MS = 2_000;
/** TICK_MS: the shell's timer: snapshots without traffic, portfolio repeat, status report. */
export const TICK_MS = 1_000;

export const stage: StageDefinition = {
  name: "position-tracker",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log } = ctx;
    const spec = ctx.pipeline.spec.positions;
    const metrics = trackerMetrics(ctx.metrics);
    metrics.drawdownAlertLevel.set(ctx.pipeline.spec.positions.drawdownAlertPct / 100);
    ctx.readiness.declare("reconciled");
    ctx.readiness.set("reconciled", false, "first reconciliation with the broker pending");
    const store = positionStore(ctx.db, ctx.epoch, log);
    const sectorOf = (s: string) => ctx.sectors.get(s) ?? "UNKNOWN";

    const lastSnapshot = await loadLastPortfolioSnapshot(ctx.db);
    const state = restorePositionState(
      positionParamsFromSpec(ctx.pipeline, ctx.sectors),
      lastSnapshot,
    );
    const broker = createAlpacaClient({
      endpoints: ctx.broker.endpoints,
      credentials: ctx.broker.credentials,
    });

    const positionTopics = new Map<string, string>();
    const positionTopic = (symbol: string) => {
      let t = positionTopics.get(symbol);
      if (t === undefined) {
        t = topic(Topics.positionUpdate, symbol);
        positionTopics.set(symbol, t);
      }
      return t;
    };
    let fills = 0;
    let stopped = false;
    /** The broker account's buying power at the last reconciliation, for the snapshots. */
    let buyingPower: Fixed | null = null;

    const report = () => {
      const positions = [...state.positions.values()]
        .filter((p) => p.qty !== ZERO)
        .map((p) => ({
          symbol: p.symbol,
          qty: toDecimal(p.qty),
          avgPrice: toDecimal(averageCost(p)),
          unrealizedPnl: toDecimal(p.unrealized),
        }));
      ctx.report({
        positions,
        fills,
        realizedPnl: toDecimal(state.realized),
        unrealizedPnl: toDecimal(state.unrealized),
        detail: state.reconciled
          ? `${positions.length} positions, reconciled`
          : `${positions.length} positions, NOT reconciled${state.breaks.length > 0 ? `: ${breaksDetail(state.breaks)}` : ""}`,
      });
    };

    const publishPortfolio = (v: PortfolioView, timeNs: bigint) => {
      publishMessage(
        bus,
        Topics.portfolio,
        PortfolioUpdateSchema,
        portfolioMessage(v, state.breaks, newHeader(SOURCE, timeNs)),
      );
    };

    const execute = (commands: PositionCommand[], timeNs: bigint) => {
      for (const c of commands) {
        switch (c.type) {
          case "PublishPosition": {
            const p = c.position;
            publishMessage(
              bus,
              positionTopic(p.symbol),
              PositionUpdateSchema,
              positionMessage(p, newHeader(SOURCE, timeNs)),
            );
            const live = state.positions.get(p.symbol);
            if (live !== undefined) store.upsertPositions([live], sectorOf);
            break;
          }
          case "PublishPortfolio":
            metrics.drawdown.set(toNumber(c.portfolio.drawdown));
            publishPortfolio(c.portfolio, c.portfolio.timeNs);
            break;
          case "PublishDrawdownAlert":
            metrics.drawdownAlerts.inc();
            log.warn(
              {
                drawdown: toDecimal(c.drawdown),
                peakEquity: toDecimal(c.peakEquity),
                equity: toDecimal(c.equity),
                alertPct: spec.drawdownAlertPct,
              },
              "drawdown alert: telling the risk-manager to stop adding risk",
            );
            publishMessage(bus, Topics.control, ControlSchema, drawdownControl(c));
            break;
          case "PublishDrawdownRecovered":
            log.info({ drawdown: toDecimal(c.drawdown) }, "drawdown back below the re-arm level");
            break;
          case "PublishReconciliation":
            if (c.ok) {
              metrics.reconcileOk.inc();
              ctx.readiness.set("reconciled", true);
              log.info({ positions: state.positions.size }, "reconciled with the broker");
            } else {
              metrics.reconcileBreak.inc();
              metrics.breaks.inc(c.breaks.length);
              const detail = breaksDetail(c.breaks);
              ctx.readiness.set("reconciled", false, `${c.breaks.length} break(s): ${detail}`);
              log.warn(
                {
                  breaks: c.breaks.map((b) => ({
                    symbol: b.symbol,
                    ours: toDecimal(b.ours),
                    broker: toDecimal(b.theirs),
                  })),
                },
                "reconciliation break: positions differ from the broker's; trading gated",
              );
            }
            break;
          case "WriteSnapshot":
            store.writeSnapshot(c.snapshot, state.positions.values(), buyingPower);
            store.upsertPositions(state.positions.values(), sectorOf);
            break;
        }
      }
    };

    const apply = (e: PositionEvent) => execute(stepPositions(state, e), e.timeNs);

    // Subscribe before the replay so nothing published meanwhile is lost; hold it until then.
    let live = false;
    const backlog: PositionEvent[] = [];
    const feed = (e: PositionEvent) => {
      if (stopped) return;
      if (live) apply(e);
      else backlog.push(e);
    };
    const fields = emptyQuoteFields();
    const quote: QuoteReceived = {
      type: "QuoteReceived",
      timeNs: 0n,
      symbol: "",
      bid: 0n,
      ask: 0n,
    };
    const onInvalid = (err: Error) => {
      metrics.invalid.inc();
      log.warn({ err: err.message }, "undecodable message refused");
    };
    const subscriptions = [
      subscribeDecoded(
        bus,
        [`${Topics.orderUpdate}/*`],
        OrderUpdateSchema,
        (u) => {
          try {
            const fill = fillFromOrderUpdate(u);
            if (fill === null) return;
            fills++;
            metrics.fills.inc();
            feed(fill);
            report();
          } catch (err) {
            metrics.invalid.inc();
            log.warn({ err: (err as Error).message }, "order update refused");
          }
        },
        onInvalid,
      ),
      // Every tick passes here: the hand-written Quote decoder into one reused object, and
      // nothing more for symbols without a position. A background subscription: in the fused
      // mode the marks run after the tick's signal, intent and order, not in front of them.
      bus.subscribe(
        [`${Topics.quote}/*`],
        (m) => {
          let q: QuoteFields;
          try {
            q = readQuote(m, fields);
          } catch (err) {
            return onInvalid(
              new Error(`${m.topic}: not a valid Quote (${(err as Error).message})`),
            );
          }
          if (!state.positions.has(q.symbol)) return;
          try {
            const bid = q.bidPrice === "" ? ZERO : decimalField(q.bidPrice, "Quote bid_price");
            const ask = q.askPrice === "" ? ZERO : decimalField(q.askPrice, "Quote ask_price");
            if (live) {
              quote.timeNs = q.eventTimeNs;
              quote.symbol = q.symbol;
              quote.bid = bid;
              quote.ask = ask;
              apply(quote);
            } else
              feed({ type: "QuoteReceived", timeNs: q.eventTimeNs, symbol: q.symbol, bid, ask });
          } catch (err) {
            metrics.invalid.inc();
            log.warn({ err: (err as Error).message, symbol: q.symbol }, "quote refused");
          }
        },
        { background: true },
      ),
    ];

    // Rebuild: every stored fill, oldest first (idempotent per order and cumulative quantity).
    // Commands of the replay are history, not news: nothing is published or written for them.
    const { fills: stored, lastId: replayedUpTo } = await loadStoredFills(ctx.db);
    let lastFillId = replayedUpTo;
    for (const f of stored) stepPositions(state, f);
    const now = ctx.nowNs();
    for (const p of state.positions.values()) {
      publishMessage(
        bus,
        positionTopic(p.symbol),
        PositionUpdateSchema,
        positionMessage(positionView(state, p), newHeader(SOURCE, now)),
      );
    }
    store.upsertPositions(state.positions.values(), sectorOf);
    live = true;
    for (const e of backlog.splice(0)) apply(e);
    log.info(
      {
        replayedFills: stored.length,
        positions: state.positions.size,
        peakEquity: lastSnapshot?.peakEquity ?? null,
      },
      "positions rebuilt from the database; reconciling with the broker",
    );

    const reconciler = startReconciler({
      trading: broker.trading,
      intervalMs: spec.reconcileIntervalSeconds * 1000,
      recheckMs: RECHECK_AFTER_BREAK_MS,
      onHoldings: (holdings) => {
        buyingPower = holdings.buyingPower;
        const t = ctx.nowNs();
        apply({
          type: "BrokerPositionsReceived",
          timeNs: t,
          positions: holdings.positions,
          ...(holdings.cash !== null ? { cash: holdings.cash } : {}),
        });
        return state.reconciled;
      },
      onError: (err) => {
        metrics.reconcileError.inc();
        log.warn({ err: err.message }, "reconciliation failed: broker unreachable");
        if (!state.reconciled) {
          ctx.readiness.set("reconciled", false, `broker unreachable: ${err.message}`);
        }
      },
      resync: async () => {
        // Replaying is idempotent per order and cumulative quantity: only missed fills count.
        const { fills } = await loadStoredFills(ctx.db);
        if (stopped) return;
        for (const f of fills) apply(f);
        log.info({ storedFills: fills.length }, "replayed every stored fill after a break");
      },
      after: () => report(),
    });

    // The bus is the fast path for fills; the database is the record. Each second, fills stored
    // since the last look are applied too (idempotently), so a fill published while this stage
    // restarted, or lost between the execution-engine's commit and its publish, still counts.
    let catchingUp = false;
    const catchUp = setInterval(() => {
      if (catchingUp || stopped) return;
      catchingUp = true;
      // Row ids are handed out at insert and become visible at commit, which need not be in id
      // order, so each look goes back FILL_CATCH_UP_OVERLAP rows (re-applying is harmless).
      const from = lastFillId > FILL_CATCH_UP_OVERLAP ? lastFillId - FILL_CATCH_UP_OVERLAP : 0n;
      loadStoredFills(ctx.db, from)
        .then(({ fills: newer, lastId }) => {
          if (stopped) return;
          if (lastId > lastFillId) lastFillId = lastId;
          for (const f of newer) apply(f);
        })
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, "fill catch-up failed"))
        .finally(() => {
          catchingUp = false;
        });
    }, FILL_CATCH_UP_MS);

    const tick = setInterval(() => {
      const t = ctx.nowNs();
      apply({ type: "TimeAdvanced", timeNs: t });
      // Repeated with the latest marks, so a subscriber that (re)started since the last change
      // learns the gate, and quotes between rate-limited updates are not left unannounced.
      const current = portfolioView(state, t, drawdownOf(state.drawdown, equityOf(state)));
      metrics.drawdown.set(toNumber(current.drawdown));
      publishPortfolio(current, t);
      report();
    }, TICK_MS);
    report();

    return {
      async stop() {
        stopped = true;
        clearInterval(tick);
        clearInterval(catchUp);
        for (const s of subscriptions) s.unsubscribe();
        await reconciler.stop();
        store.stop();
        await store.flush();
        await broker.close();
      },
    };
  },
};
