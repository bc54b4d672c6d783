/**
 * risk-manager stage shell: `signal/*` TradingSignals → the core's six checks, breaker, kill
 * switch and halts → `order.intent/<SYM>` OrderIntents (approved with the deterministic
 * client_order_id, or refused with the reason). It listens to the execution engine
 * (`order.update/*`), the position tracker (`position.update/*`, `position.portfolio` — the
 * trading gate — and its DRAWDOWN_ALERT on `control`) and halt/resume on `control`; publishes
 * `risk.state` on change and every few seconds, and a `control` KILL_SWITCH_ON/OFF when the kill
 * switch changes so the execution engine cancels open orders.
 *
 * The kill switch lives in risk_state: engaged by spec.killSwitch (at start and whenever the
 * spec file changes to true), by `tradepipe kill-switch on|off` and by `POST /kill-switch` on the
 * authenticated control listener, all through tp_set_kill_switch, whose NOTIFY this stage
 * LISTENs for. While the spec says true, the control listener refuses a release. A restart reads it back (and the breaker, halts and the day's P&L
 * baseline from core_state), with the orders still working and the tracker's stored positions.
 */
import { Topics } from "../core/bus/topics.ts";
import { subscribeDecoded } from "../core/bus/typed.ts";
import type { BusMessage } from "../core/bus/types.ts";
import {
  type Control,
  ControlCommand,
  ControlSchema,
  OrderUpdateSchema,
  PortfolioUpdateSchema,
  PositionUpdateSchema,
} from "../core/messages/index.ts";
import { type Fixed, fromDecimal } from "../core/money.ts";
import type { RunningStage, StageContext, StageDefinition } from "../pipeline/context.ts";
import { type RiskDecisionTiming, riskDecisionChannel } from "./channels.ts";
import {
  createRiskState,
  exportRiskState,
  type RiskParams,
  restoreRiskState,
  stepRisk,
} from "./core/index.ts";
import { dayOfNs, loadDailyCloses } from "./history.ts";
import {
  type KillSwitchRouteDeps,
  killSwitchControlRoutes,
  killSwitchStatusRoute,
  listenForKillSwitch,
} from "./kill-switch.ts";
import {
  controlOf,
  portfolioChangedOf,
  positionChangedOf,
  proposalOfFields,
  riskEventsOf,
  SOURCE,
} from "./messages.ts";
import { riskMetrics } from "./metrics.ts";
import { listenForPause, loadPause, type PauseRow, pauseEvent } from "./pause.ts";
import { createRiskRuntime } from "./runtime.ts";
import { riskParamsFromSpec } from "./spec-params.ts";
import {
  type KillSwitchRow,
  loadOpenOrders,
  loadPositions,
  loadRiskState,
  riskStore,
  setKillSwitch,
} from "./store.ts";
import { unheardApprovals } from "./unheard-approvals.ts";
import { emptySignalFields, readSignal, type SignalFields } from "./wire.ts";

/** TICK_MS: breaker cooldowns and day rolls without traffic; risk.state and risk_state refresh. */
export const TICK_MS = 1_000;
/** HISTORY_CHECK_MS: how often the stage checks whether a new UTC day needs the closes reloaded. */
export const HISTORY_CHECK_MS = 600_000;
/** UNHEARD_SWEEP_MS: how often approvals no engine acknowledged are checked (unheard-approvals.ts). */
export const UNHEARD_SWEEP_MS = 5_000;

function decimalOrNull(v: string): Fixed | null {
  try {
    return fromDecimal(v);
  } catch {
    return null;
  }
}

export function riskParamsOf(ctx: StageContext): RiskParams {
  return riskParamsFromSpec(ctx.pipeline, ctx.sectors, ctx.broker.credentials.keyId);
}

export const stage: StageDefinition = {
  name: "risk-manager",
  async start(ctx: StageContext): Promise<RunningStage> {
    const { bus, log } = ctx;
    const params = riskParamsOf(ctx);
    const orderQty = fromDecimal(ctx.pipeline.spec.strategy.orderQty);
    const metrics = riskMetrics(ctx.metrics);
    const invalid = (what: string) => (err: unknown) => {
      metrics.invalid.inc();
      log.warn({ err: (err as Error).message }, `${what} refused`);
    };
    const store = riskStore(ctx.db, ctx.epoch, log);

    // Listen before reading the row, so a change made in between is not missed.
    let live = false;
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

    // Rebuild: risk_state (the kill switch from its columns), the orders still working.
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
    const rt = createRiskRuntime(ctx, state, store, metrics);
    // The tracker's stored positions, until its updates arrive.
    for (const p of await loadPositions(ctx.db)) {
      rt.step({
        type: "PositionChanged",
        timeNs: ctx.nowNs(),
        symbol: p.symbol,
        qty: p.qty,
        marketPrice: p.price,
      });
    }
    onKillSwitch = rt.applyKillSwitch;
    live = true;
    for (const row of early.splice(0)) rt.applyKillSwitch(row);
    // Pause new orders (sql/0010, pause.ts): the halt of all trading, read back on every
    // (re)connect of its LISTEN, so a restart or a lost NOTIFY still ends in the row's state.
    const applyPause = (row: PauseRow) => {
      const e = pauseEvent(state, row, ctx.nowNs());
      if (e === null) return;
      log.warn(
        { by: row.changedBy, reason: row.reason },
        row.paused ? "new orders paused" : "new orders resumed",
      );
      rt.step(e);
    };
    const pauseListener = listenForPause(ctx.db, {
      log,
      onChange: applyPause,
      onListening: async () => applyPause(await loadPause(ctx.db)),
      onLost: (err) => log.warn({ err: err.message }, "pause LISTEN connection lost; reconnecting"),
    });
    // spec.killSwitch: asserted now, and again whenever the spec file changes to true.
    let specEngaged = ctx.pipeline.spec.killSwitch;
    const assertSpec = async () => {
      if (specEngaged && !state.killSwitch.engaged) {
        rt.applyKillSwitch(await setKillSwitch(ctx.db, true, "spec.killSwitch is true", "spec"));
        return true;
      }
      return false;
    };
    if (!(await assertSpec()) && state.killSwitch.engaged) {
      rt.announceKillSwitch(); // restored engaged: the execution engine may have restarted too
    }
    const unwatchSpec = ctx.watchSpec?.((pipeline) => {
      const was = specEngaged;
      specEngaged = pipeline.spec.killSwitch;
      if (specEngaged && !was) {
        log.warn("spec.killSwitch changed to true: engaging the kill switch");
        assertSpec().catch(invalid("spec.killSwitch"));
      }
    });

    const routeDeps: KillSwitchRouteDeps = {
      set: async (engaged, reason, by) => {
        const row = await setKillSwitch(ctx.db, engaged, reason, by);
        rt.applyKillSwitch(row); // at once; the NOTIFY that follows changes nothing more
        return row;
      },
      current: () => ({
        engaged: state.killSwitch.engaged,
        reason: state.killSwitch.reason,
        changedBy: state.killSwitch.requestedBy,
        changedAtNs: state.killSwitch.sinceNs,
      }),
      specEngaged: () => specEngaged,
    };
    const routes = killSwitchStatusRoute(routeDeps);
    const controlRoutes = killSwitchControlRoutes(routeDeps);
    Object.assign(ctx.routes, routes);
    Object.assign(ctx.controlRoutes, controlRoutes);

    // Approvals no execution engine ever took (published while none listened) are written off
    // after INTENT_VOID_AFTER_MS, so their pending quantity does not block trading for good.
    const unheard = unheardApprovals({ db: ctx.db, step: rt.step, nowNs: ctx.nowNs });
    const sweepUnheard = () => {
      unheard.sweep().then(
        (lost) => {
          if (lost.length === 0) return;
          metrics.approvalsLost.inc(lost.length);
          log.warn(
            { count: lost.length, clientOrderIds: lost.slice(0, 10) },
            "approved intents no execution engine took (published while none ran): written off, their pending quantity freed",
          );
        },
        (err: unknown) =>
          log.warn({ err: (err as Error).message }, "unheard approvals: Postgres did not answer"),
      );
    };
    const unheardTimer = setInterval(sweepUnheard, UNHEARD_SWEEP_MS);
    const onInvalid = invalid("message");
    const timing: RiskDecisionTiming = { symbol: "", ns: 0, approved: false };
    let stopped = false;
    // Hot path: the signal is the signal-bridge's own copy in-process, else read by the
    // hand-written decoder into one reused object.
    const decoded = emptySignalFields();
    /** The signal being handled (read by `execute` for its trace and origin time). */
    let sig: SignalFields = decoded;
    const onSignal = (m: BusMessage) => {
      if (stopped) return;
      try {
        sig = readSignal(m, decoded);
      } catch (err) {
        return onInvalid(
          new Error(`${m.topic}: not a valid TradingSignal (${(err as Error).message})`),
        );
      }
      const proposal = proposalOfFields(sig, orderQty);
      if (proposal === null) return;
      if (!riskDecisionChannel.hasSubscribers) {
        execute(stepRisk(state, proposal));
        return;
      }
      const t0 = process.hrtime.bigint();
      const commands = stepRisk(state, proposal);
      timing.ns = Number(process.hrtime.bigint() - t0);
      timing.symbol = proposal.symbol;
      timing.approved = commands.some((c) => c.type === "PublishDecision" && c.decision.approved);
      riskDecisionChannel.publish(timing);
      execute(commands);
    };
    /** execute runs the core's commands for the signal just read, remembering approvals sent. */
    const execute = (commands: ReturnType<typeof stepRisk>) => {
      for (const c of commands) {
        if (c.type === "PublishDecision" && c.decision.approved && !c.decision.repeated)
          unheard.approved(c.decision.clientOrderId);
      }
      rt.execute(commands, sig.traceparent, sig.originTimeNs);
    };
    const onControl = (c: Control) => {
      if (c.header?.source === SOURCE) return; // our own kill-switch announcements
      if (
        c.command === ControlCommand.KILL_SWITCH_ON ||
        c.command === ControlCommand.KILL_SWITCH_OFF
      ) {
        // Through the database, which stays the one source of truth (its NOTIFY applies it).
        const on = c.command === ControlCommand.KILL_SWITCH_ON;
        setKillSwitch(ctx.db, on, c.reason, c.requestedBy || "bus").then(
          rt.applyKillSwitch,
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
      rt.step(e);
    };
    const subscriptions = [
      bus.subscribe([`${Topics.signal}/*`], onSignal),
      subscribeDecoded(
        bus,
        [`${Topics.orderUpdate}/*`],
        OrderUpdateSchema,
        (u) => {
          unheard.heard(u.clientOrderId);
          for (const e of riskEventsOf(u)) rt.step(e);
        },
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [`${Topics.positionUpdate}/*`],
        PositionUpdateSchema,
        (p) => rt.step(positionChangedOf(p)),
        onInvalid,
      ),
      subscribeDecoded(
        bus,
        [Topics.portfolio],
        PortfolioUpdateSchema,
        (p) => {
          if (p.peakEquity !== "") rt.setEquityPeak(decimalOrNull(p.peakEquity));
          rt.step(portfolioChangedOf(p));
        },
        onInvalid,
      ),
      subscribeDecoded(bus, [Topics.control], ControlSchema, onControl, onInvalid),
    ];

    // VaR history in the background: until it arrives the core uses its conservative stand-in.
    // It is reloaded (adjusted, whole window) once per UTC day while the stage runs, so each
    // completed day adds its close and a split restates the earlier ones.
    let historyDay = -1;
    let historyLoading = false;
    const loadHistory = () => {
      const now = ctx.nowNs();
      if (stopped || historyLoading || dayOfNs(now) === historyDay) return;
      historyLoading = true;
      loadDailyCloses(ctx, params.varWindowDays, now)
        .then(
          (bySymbol) => {
            historyDay = dayOfNs(now);
            const t = ctx.nowNs();
            for (const [symbol, closes] of bySymbol)
              rt.step({ type: "DailyClosesRecorded", timeNs: t, symbol, closes, replace: true });
            log.info({ symbols: bySymbol.size }, "daily closes loaded for VaR");
          },
          (err: unknown) =>
            log.warn(
              { err: (err as Error).message },
              "daily closes unavailable: VaR uses the fallback volatility",
            ),
        )
        .finally(() => {
          historyLoading = false;
        });
    };
    loadHistory();
    const historyTimer = setInterval(loadHistory, HISTORY_CHECK_MS);

    rt.refresh();
    const tick = setInterval(rt.refresh, TICK_MS);
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
        rt.stop();
        clearInterval(tick);
        clearInterval(historyTimer);
        clearInterval(unheardTimer);
        for (const s of subscriptions) s.unsubscribe();
        unwatchSpec?.();
        for (const k of Object.keys(routes)) delete ctx.routes[k];
        for (const k of Object.keys(controlRoutes)) delete ctx.controlRoutes[k];
        await listener.stop();
        await pauseListener.stop();
        store.stop();
        await store.flush();
      },
    };
  },
};
