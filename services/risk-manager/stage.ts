/**
 * risk-manager stage shell: `signal/*` TradingSignals → the core's six checks, breaker, kill
 * switch and halts → `order.intent/<SYM>` OrderIntents (approved with the deterministic
 * client_order_id, or refused with the reason). It listens to the execution engine
 * (`order.update/*`), the position tracker (`position.update/*`, `position.portfolio` — the
 * trading gate — and its DRAWDOWN_ALERT on `control`) and halt/resume on `control`; publishes
 * `risk.state` on change and every few seconds, and a `control` KILL_SWITCH_ON/OFF when the kill
 * switch changes so the execution engine cancels open orders.
 *
 * The kill switch lives in risk_state: engaged by spec.killSwitch at start, by `tradepipe
 * kill-switch on|off` and by `POST /kill-switch`, all through tp_set_kill_switch, whose NOTIFY
 * this stage LISTENs for. A restart reads it back (and the breaker, halts and the day's P&L
 * baseline from core_state), with the orders still working and the tracker's stored positions.
 */
import { Topics, topic } from "../core/bus/topics.ts";
import { publishMessage } from "../core/bus/typed.ts";
import {
  ControlCommand,
  ControlSchema,
  type Header,
  headerFrom,
  OrderIntentSchema,
  OrderUpdateSchema,
  PortfolioUpdateSchema,
  PositionUpdateSchema,
  RiskStateSchema,
  TradingSignalSchema,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal, toDecimal } from "../core/money.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { type RiskDecisionTiming, riskDecisionChannel } from "./channels.ts";
import {
  createRiskState,
  exportRiskState,
  type RiskCommand,
  type RiskEvent,
  type RiskParams,
  restoreRiskState,
  riskStatus,
  stepRisk,
} from "./core/index.ts";
import { loadDailyCloses } from "./history.ts";
import { killSwitchRoutes, listenForKillSwitch } from "./kill-switch.ts";
import {
  controlOf,
  intentMessage,
  killSwitchControl,
  portfolioChangedOf,
  positionChangedOf,
  proposalOf,
  riskEventsOf,
  riskStateMessage,
  SOURCE,
  subscribeDecoded,
} from "./messages.ts";
import { BREAKER_GAUGE_VALUES, riskMetrics } from "./metrics.ts";
import {
  type KillSwitchRow,
  loadOpenOrders,
  loadPositions,
  loadRiskState,
  riskStore,
  setKillSwitch,
} from "./store.ts";

/** TICK_MS: breaker cooldowns and day rolls without traffic; risk.state and risk_state refresh. */
export const TICK_MS = 1_000;
/** STATE_REPEAT_MS: risk.state is republished at least this often even when nothing changed. */
export const STATE_REPEAT_MS = 5_000;
const NS_PER_DAY = 86_400_000_000_000n;

function decimalOrNull(v: string): Fixed | null {
  try {
    return fromDecimal(v);
  } catch {
    return null;
  }
}

export function riskParamsOf(ctx: StageContext): RiskParams {
  const r = ctx.pipeline.spec.risk;
  return {
    pipelineName: ctx.pipeline.metadata.name,
    maxPositionShares: r.maxPositionShares,
    maxNotionalPerSymbol: r.maxNotionalPerSymbol,
    maxOpenPositions: r.maxOpenPositions,
    maxDailyLoss: r.maxDailyLoss,
    maxVar99: r.maxVar99,
    varWindowDays: r.varWindowDays,
    maxSectorConcentration: r.maxSectorConcentration,
    circuitBreaker: { ...r.circuitBreaker },
    sectors: Object.fromEntries(ctx.sectors),
  };
}

export const stage: StageDefinition = {
  name: "risk-manager",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log } = ctx;
    const params = riskParamsOf(ctx);
    const orderQty = fromDecimal(ctx.pipeline.spec.strategy.orderQty);
    const metrics = riskMetrics(ctx.metrics);
    const store = riskStore(ctx.db, ctx.epoch, log);
    let stopped = false;
    let equityPeak: Fixed | null = null;

    let live = false;
    // Listen before reading the row, so a change made in between is not missed.
    const early: KillSwitchRow[] = [];
    let onKillSwitch = (row: KillSwitchRow) => {
      early.push(row);
    };
    ctx.readiness.declare("kill-switch-listener");
    const listener = listenForKillSwitch(ctx.db, {
      log,
      onChange: (row) => onKillSwitch(row),
      onListening: async () => {
        ctx.readiness.set("kill-switch-listener", true);
        if (live) onKillSwitch((await loadRiskState(ctx.db)).killSwitch);
      },
      onLost: (err) => {
        ctx.readiness.set("kill-switch-listener", false, `LISTEN connection lost: ${err.message}`);
        log.warn({ err: err.message }, "kill switch LISTEN connection lost; reconnecting");
      },
    });

    const stored = await loadRiskState(ctx.db);
    const openOrders = await loadOpenOrders(ctx.db);
    const base = stored.core ?? exportRiskState(createRiskState(params));
    const ks = stored.killSwitch;
    const state = restoreRiskState(
      params,
      {
        ...base,
        killSwitch: {
          engaged: ks.engaged,
          requestedBy: ks.changedBy,
          reason: ks.reason,
          sinceNs: ks.changedAtNs.toString(),
        },
      },
      openOrders,
    );

    const intentTopics = new Map<string, string>();
    const intentTopic = (symbol: string) => {
      let t = intentTopics.get(symbol);
      if (t === undefined) {
        t = topic(Topics.orderIntent, symbol);
        intentTopics.set(symbol, t);
      }
      return t;
    };

    let lastStateKey = "";
    let lastStateAt = 0;
    let lastRowKey = "";
    const publishState = (force: boolean) => {
      const s = riskStatus(state);
      metrics.breaker.set(BREAKER_GAUGE_VALUES[s.breaker]);
      metrics.killSwitch.set(s.killSwitch ? 1 : 0);
      const key = `${s.breaker}|${s.killSwitch}|${s.halted}|${s.haltedSymbols}|${s.dailyPnl}|${s.valueAtRisk}|${s.openPositions}|${s.rejectsToday}`;
      const now = Date.now();
      if (force || key !== lastStateKey || now - lastStateAt >= STATE_REPEAT_MS) {
        lastStateKey = key;
        lastStateAt = now;
        publishMessage(
          bus,
          Topics.riskState,
          RiskStateSchema,
          riskStateMessage(s, state.breaker.failuresNs.length, ctx.nowNs()),
        );
      }
      const rejects = Object.values(state.rejectsByReason).reduce((a, b) => a + b, 0);
      ctx.report({
        rejects,
        approvals: s.approvals,
        circuitBreaker: s.breaker,
        killSwitch: s.killSwitch,
        detail: s.killSwitch
          ? `kill switch engaged by ${state.killSwitch.requestedBy}: ${state.killSwitch.reason}`
          : s.halted
            ? `halted: ${state.halt.reason}`
            : `breaker ${s.breaker}, daily P&L ${toDecimal(s.dailyPnl, 2)}`,
      });
      return s;
    };

    const persist = () => {
      const s = riskStatus(state);
      const core = exportRiskState(state);
      const tradingDay =
        state.dayIndex < 0
          ? null
          : new Date(Number((BigInt(state.dayIndex) * NS_PER_DAY) / 1_000_000n))
              .toISOString()
              .slice(0, 10);
      lastRowKey = `${JSON.stringify(core)}|${s.dailyPnl}|${equityPeak}`;
      store.write({ core, breaker: s.breaker, tradingDay, dailyPnl: s.dailyPnl, equityPeak });
    };

    const execute = (commands: RiskCommand[], cause?: Header) => {
      for (const c of commands) {
        if (c.type === "PublishDecision") {
          const d = c.decision;
          publishMessage(
            bus,
            intentTopic(d.symbol),
            OrderIntentSchema,
            intentMessage(d, headerFrom(SOURCE, cause, d.timeNs)),
          );
          if (d.approved) metrics.approved.inc();
          else {
            metrics.rejected.inc();
            metrics.reject(d.reason);
            log.info(
              { symbol: d.symbol, signalId: d.signalId, reason: d.reason, detail: d.message },
              "order refused",
            );
          }
          continue;
        }
        // PersistRiskState: kill switch, halt, breaker or day changed.
        persist();
        const s = publishState(true);
        if (c.cause === "kill_switch_on" || c.cause === "kill_switch_off") {
          const k = state.killSwitch;
          publishMessage(
            bus,
            Topics.control,
            ControlSchema,
            killSwitchControl(k.engaged, k.requestedBy, k.reason, ctx.nowNs()),
          );
          log.warn(
            { engaged: k.engaged, by: k.requestedBy, reason: k.reason },
            k.engaged ? "kill switch ENGAGED: no orders pass" : "kill switch released",
          );
        } else {
          log.info({ cause: c.cause, breaker: s.breaker, halted: s.halted }, "risk state changed");
        }
      }
    };

    const step = (e: RiskEvent) => execute(stepRisk(state, e));

    const applyKillSwitch = (row: KillSwitchRow) => {
      if (stopped) return;
      step({
        type: "ControlReceived",
        timeNs: ctx.nowNs(),
        command: row.engaged ? "kill_switch_on" : "kill_switch_off",
        requestedBy: row.changedBy,
        reason: row.reason,
      });
    };

    // Rebuild: the tracker's stored positions until its updates arrive.
    for (const p of await loadPositions(ctx.db)) {
      step({
        type: "PositionChanged",
        timeNs: ctx.nowNs(),
        symbol: p.symbol,
        qty: p.qty,
        marketPrice: p.price,
      });
    }
    onKillSwitch = applyKillSwitch;
    live = true;
    for (const row of early.splice(0)) applyKillSwitch(row);
    if (ctx.pipeline.spec.killSwitch && !state.killSwitch.engaged) {
      applyKillSwitch(await setKillSwitch(ctx.db, true, "spec.killSwitch is true", "spec"));
    }
    if (state.killSwitch.engaged) {
      // Restored engaged: tell the execution engine again (it may have restarted too).
      publishMessage(
        bus,
        Topics.control,
        ControlSchema,
        killSwitchControl(true, state.killSwitch.requestedBy, state.killSwitch.reason, ctx.nowNs()),
      );
    }

    for (const [k, handler] of Object.entries(
      killSwitchRoutes({
        set: async (engaged, reason, by) => {
          const row = await setKillSwitch(ctx.db, engaged, reason, by);
          applyKillSwitch(row); // at once; the NOTIFY that follows changes nothing more
          return row;
        },
        current: () => ({
          engaged: state.killSwitch.engaged,
          reason: state.killSwitch.reason,
          changedBy: state.killSwitch.requestedBy,
          changedAtNs: state.killSwitch.sinceNs,
        }),
      }),
    )) {
      ctx.routes[k] = handler;
    }

    const invalid = (what: string) => (err: unknown) => {
      metrics.invalid.inc();
      log.warn({ err: (err as Error).message }, `${what} refused`);
    };
    const onInvalid = invalid("message");
    const timing: RiskDecisionTiming = { symbol: "", ns: 0, approved: false };
    const subscriptions = [
      subscribeDecoded(
        bus,
        [`${Topics.signal}/*`],
        TradingSignalSchema,
        (sig) => {
          if (stopped) return;
          const proposal = proposalOf(sig, orderQty);
          if (proposal === null) return;
          if (!riskDecisionChannel.hasSubscribers) {
            execute(stepRisk(state, proposal), sig.header);
            return;
          }
          const t0 = process.hrtime.bigint();
          const commands = stepRisk(state, proposal);
          timing.ns = Number(process.hrtime.bigint() - t0);
          timing.symbol = proposal.symbol;
          timing.approved = commands.some(
            (c) => c.type === "PublishDecision" && c.decision.approved,
          );
          riskDecisionChannel.publish(timing);
          execute(commands, sig.header);
        },
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [`${Topics.orderUpdate}/*`],
        OrderUpdateSchema,
        (u) => {
          if (stopped) return;
          for (const e of riskEventsOf(u)) step(e);
        },
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [`${Topics.positionUpdate}/*`],
        PositionUpdateSchema,
        (p) => {
          if (!stopped) step(positionChangedOf(p));
        },
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [Topics.portfolio],
        PortfolioUpdateSchema,
        (p) => {
          if (stopped) return;
          if (p.peakEquity !== "") equityPeak = decimalOrNull(p.peakEquity);
          step(portfolioChangedOf(p));
        },
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [Topics.control],
        ControlSchema,
        (c) => {
          if (stopped || c.header?.source === SOURCE) return; // our own kill-switch announcements
          if (
            c.command === ControlCommand.KILL_SWITCH_ON ||
            c.command === ControlCommand.KILL_SWITCH_OFF
          ) {
            // Through the database, which stays the one source of truth (its NOTIFY applies it).
            const on = c.command === ControlCommand.KILL_SWITCH_ON;
            setKillSwitch(ctx.db, on, c.reason, c.requestedBy || "bus").then(
              applyKillSwitch,
              invalid("kill switch control"),
            );
            return;
          }
          const e = controlOf(c, ctx.nowNs());
          if (e === null) return invalid("control")(new Error(`unknown command ${c.command}`));
          if (e.command === "drawdown_alert") {
            log.warn(
              { reason: e.reason },
              "drawdown alert from the position tracker: halting new risk",
            );
          }
          step(e);
        },
        onInvalid,
      ),
    ];

    // VaR history in the background: until it arrives the core uses its conservative stand-in.
    void loadDailyCloses(ctx, params.varWindowDays).then(
      (bySymbol) => {
        if (stopped) return;
        const t = ctx.nowNs();
        for (const [symbol, closes] of bySymbol)
          step({ type: "DailyClosesRecorded", timeNs: t, symbol, closes });
        log.info({ symbols: bySymbol.size }, "daily closes loaded for VaR");
      },
      (err: unknown) =>
        log.warn(
          { err: (err as Error).message },
          "daily closes unavailable: VaR uses the fallback volatility",
        ),
    );

    persist();
    publishState(true);
    const tick = setInterval(() => {
      step({ type: "TimeAdvanced", timeNs: ctx.nowNs() });
      publishState(false);
      const s = riskStatus(state);
      if (`${JSON.stringify(exportRiskState(state))}|${s.dailyPnl}|${equityPeak}` !== lastRowKey)
        persist();
    }, TICK_MS);
    log.info(
      {
        killSwitch: state.killSwitch.engaged,
        breaker: state.breaker.status,
        openOrders: openOrders.length,
        restored: stored.core !== null,
      },
      "risk-manager up",
    );

    return {
      async stop() {
        stopped = true;
        clearInterval(tick);
        for (const s of subscriptions) s.unsubscribe();
        delete ctx.routes["POST /kill-switch"];
        delete ctx.routes["GET /kill-switch"];
        await listener.stop();
        await store.flush();
      },
    };
  },
};
