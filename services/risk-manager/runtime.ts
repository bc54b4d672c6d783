/**
 * runtime carries out the risk-manager core's commands: decisions become OrderIntents, state
 * changes are persisted (risk_state) and announced (risk.state, and a kill-switch Control for
 * the execution engine); it also keeps the status report and the gauges current. The stage
 * feeds it events; the runtime holds no logic of its own beyond "what to do with a command".
 */
import { publishFields } from "../core/bus/fields.ts";
import { Topics, topic } from "../core/bus/topics.ts";
import { publishMessage } from "../core/bus/typed.ts";
import { ControlSchema, childTraceparent, RiskStateSchema } from "../core/messages/index.ts";
import { type Fixed, toDecimal, toNumber } from "../core/money.ts";
import type { StageContext } from "../pipeline/context.ts";
import {
  exportRiskState,
  type RiskCommand,
  type RiskEvent,
  type RiskState,
  riskStatus,
  stepRisk,
} from "./core/index.ts";
import { intentFieldsOf, killSwitchControl, riskStateMessage } from "./messages.ts";
import { BREAKER_GAUGE_VALUES, type riskMetrics } from "./metrics.ts";
import type { KillSwitchRow, RiskStore } from "./store.ts";
import { copyIntent, emptyIntentFields, encodeIntent } from "./wire.ts";

/** STATE_REPEAT_MS: risk.state is republished at least this often even when nothing changed. */
export const STATE_REPEAT_MS = 5_000;
const NS_PER_DAY = 86_400_000_000_000n;

export interface RiskRuntime {
  state: RiskState;
  /**
   * execute carries out commands; `causeTrace` and `causeOriginNs` are the traceparent and the
   * header origin_time_ns of the signal that caused them (an intent carries both on).
   */
  execute(commands: RiskCommand[], causeTrace?: string, causeOriginNs?: bigint): void;
  step(event: RiskEvent): void;
  applyKillSwitch(row: KillSwitchRow): void;
  /** announceKillSwitch publishes the current kill switch as a Control (e.g. after a restart). */
  announceKillSwitch(): void;
  setEquityPeak(peak: Fixed | null): void;
  /** refresh runs every tick: publishes risk.state when due, persists what changed. */
  refresh(): void;
  stop(): void;
}

export function createRiskRuntime(
  ctx: StageContext,
  state: RiskState,
  store: RiskStore,
  metrics: ReturnType<typeof riskMetrics>,
): RiskRuntime {
  const { bus, log } = ctx;
  let stopped = false;
  let equityPeak: Fixed | null = null;
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
  const rowKey = () =>
    `${JSON.stringify(exportRiskState(state))}|${riskStatus(state).dailyPnl}|${riskStatus(state).valueAtRisk}|${equityPeak}`;

  const publishState = (force: boolean) => {
    const s = riskStatus(state);
    metrics.breaker.set(BREAKER_GAUGE_VALUES[s.breaker]);
    metrics.killSwitch.set(s.killSwitch ? 1 : 0);
    metrics.dailyLoss.set(s.dailyPnl < 0n ? toNumber(-s.dailyPnl) : 0);
    metrics.dailyLossLimit.set(toNumber(state.limits.maxDailyLoss));
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
    ctx.report({
      rejects: Object.values(state.rejectsByReason).reduce((a, b) => a + b, 0),
      rejectsByReason: { ...state.rejectsByReason },
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
    const tradingDay =
      state.dayIndex < 0
        ? null
        : new Date(Number((BigInt(state.dayIndex) * NS_PER_DAY) / 1_000_000n))
            .toISOString()
            .slice(0, 10);
    lastRowKey = rowKey();
    store.write({
      core: exportRiskState(state),
      breaker: s.breaker,
      tradingDay,
      dailyPnl: s.dailyPnl,
      equityPeak,
      valueAtRisk99: s.valueAtRisk,
    });
  };

  const announceKillSwitch = () => {
    const k = state.killSwitch;
    publishMessage(
      bus,
      Topics.control,
      ControlSchema,
      killSwitchControl(k.engaged, k.requestedBy, k.reason, ctx.nowNs()),
    );
  };

  const intent = emptyIntentFields();
  const execute = (commands: RiskCommand[], causeTrace = "", causeOriginNs = 0n) => {
    for (const c of commands) {
      if (c.type === "PublishDecision") {
        const d = c.decision;
        // The intent continues the signal's trace (a new span) and keeps its event and origin times.
        const trace = causeTrace === "" ? "" : childTraceparent(causeTrace);
        const fields = intentFieldsOf(d, trace, causeOriginNs, intent);
        // In-process subscribers read a copy (BusMessage.value): nobody encodes or decodes.
        publishFields(bus, intentTopic(d.symbol), fields, encodeIntent, copyIntent);
        if (d.repeated) {
          // The earlier decision again; the execution engine ignores a known client_order_id.
          log.info(
            { symbol: d.symbol, signalId: d.signalId, reason: d.reason },
            "repeated proposal: the earlier decision stands",
          );
        } else if (d.approved) metrics.approved.inc();
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
      // PersistRiskState: the kill switch, a halt, the breaker or the trading day changed.
      persist();
      const s = publishState(true);
      if (c.cause === "kill_switch_on" || c.cause === "kill_switch_off") {
        announceKillSwitch();
        const k = state.killSwitch;
        log.warn(
          { engaged: k.engaged, by: k.requestedBy, reason: k.reason },
          k.engaged ? "kill switch ENGAGED: no orders pass" : "kill switch released",
        );
      } else {
        log.info({ cause: c.cause, breaker: s.breaker, halted: s.halted }, "risk state changed");
      }
    }
  };

  const step = (e: RiskEvent) => {
    if (!stopped) execute(stepRisk(state, e));
  };

  return {
    state,
    execute,
    step,
    applyKillSwitch(row) {
      step({
        type: "ControlReceived",
        timeNs: ctx.nowNs(),
        command: row.engaged ? "kill_switch_on" : "kill_switch_off",
        requestedBy: row.changedBy,
        reason: row.reason,
      });
    },
    announceKillSwitch,
    setEquityPeak(peak) {
      if (peak !== null) equityPeak = peak;
    },
    refresh() {
      if (stopped) return;
      step({ type: "TimeAdvanced", timeNs: ctx.nowNs() });
      publishState(false);
      if (rowKey() !== lastRowKey) persist();
    },
    stop() {
      stopped = true;
    },
  };
}
