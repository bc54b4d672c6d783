/**
 * Kernel is the one glue between the five stage cores: it turns each core's commands into the
 * next core's events, synchronously and in lock-step, in one process, with no bus and no
 * encode/decode between cores. The backtester drives it with a simulated clock and the simulated
 * broker; a live shell drives it with real adapters (the Alpaca clients) through the same ports.
 *
 * Everything outside the cores comes in through three entry points, each with the time the
 * caller says it is (the kernel never reads a clock):
 * - `marketData(event, nowNs)`: a feed event (quote, trade, book) as the market-data stage gets it;
 * - `execution(event)`: an answer of the broker for the execution core (SendSucceeded, SendFailed,
 *   TradeUpdated, OrderResolved, CancelFailed, RetryDue);
 * - `advance(nowNs)`: time passing with no traffic (breaker cooldowns, day rolls, snapshots).
 * and leaves through `KernelPorts`: broker calls, retry timers, and an observer that sees every
 * command (signals, risk decisions, audit records, order updates, portfolio) for reports.
 *
 * Delivery order (IMPORTANT: it is part of the determinism promise; changing it changes results):
 * a core's commands are handled in the order the core returned them; the events they cause for
 * other cores go to a FIFO queue that is drained before the entry point returns, so a core never
 * sees an event while another core is in the middle of a step. A quote goes first to the
 * execution core (its last price is the slippage guard's reference), then to the position
 * tracker (marks), then to the signal-bridge.
 */
import { type Fixed, type QuoteNumbers, quoteNumbers } from "../core/money.ts";
import {
  type AuditRecord,
  type CancelOrder,
  createExecutionState,
  type ExecutionCommand,
  type ExecutionEvent,
  type ExecutionParams,
  type ExecutionState,
  eventsForRisk,
  fillForTracker,
  type OrderUpdateOut,
  type SendOrder,
  stepExecution,
} from "../execution-engine/core/index.ts";
import type { MarketDataEvent } from "../market-data/core/events.ts";
import { MarketDataCore } from "../market-data/core/market-data-core.ts";
import {
  type BrokerPosition,
  createPositionState,
  eventForRisk,
  type PortfolioView,
  type PositionCommand,
  type PositionEvent,
  type PositionParams,
  type PositionState,
  stepPositions,
} from "../position-tracker/core/index.ts";
import {
  approvalForExecution,
  createRiskState,
  proposalFromSignal,
  type RiskCommand,
  type RiskDecision,
  type RiskEvent,
  type RiskParams,
  type RiskState,
  stepRisk,
} from "../risk-manager/core/index.ts";
import { decimalOf, SignalIds } from "../signal-bridge/signal-message.ts";
import type { AggregationRules } from "../signal-bridge/strategy/aggregate.ts";
import { StrategyEngine, type StrategyFailure } from "../signal-bridge/strategy/engine.ts";
import { type ModelScore, type ReplayQuote, stepQuote } from "../signal-bridge/strategy/replay.ts";
import type { StrategySlot } from "../signal-bridge/strategy/slot.ts";

/** KernelConfig: each core's parameters, as the stage shells derive them from the spec. */
export interface KernelConfig {
  /** strategies: the signal-bridge's strategy slots and aggregation rules (strategy-loader.ts). */
  strategies: { slots: readonly StrategySlot[]; rules: AggregationRules };
  risk: RiskParams;
  execution: ExecutionParams;
  positions: PositionParams;
  /** orderQty: shares per order a BUY or SELL signal proposes (spec.strategy.orderQty). */
  orderQty: Fixed;
  /** marketDataDepth: levels kept per book side (default the core's). */
  marketDataDepth?: number;
  /**
   * noStrategy: quotes do not reach the signal-bridge (no indicators, no model, no orders), to
   * measure the replay, market-data, execution, tracker and matching path on its own.
   */
  noStrategy?: boolean;
}

/** SignalEmitted: a BUY or SELL the signal-bridge published (with what it was computed from). */
export interface SignalEmitted {
  signalId: string;
  symbol: string;
  /** eventTimeNs: the quote's event time (the exchange's timestamp). */
  eventTimeNs: bigint;
  nowNs: bigint;
  direction: 1 | -1;
  confidence: number;
  /** strategyId: the leading strategy of the aggregated decision. */
  strategyId: string;
  referencePrice: Fixed;
  /** quantity, limitPrice: the signal's decimal strings as the stage publishes them ("": none). */
  quantity: string;
  limitPrice: string;
  /** indicators: the leading strategy's indicator values on this tick (a copy). */
  indicators: Readonly<Record<string, number>>;
}

/** KernelObserver sees what the shells would publish or write; every hook is optional. */
export interface KernelObserver {
  signal?(s: SignalEmitted): void;
  decision?(d: RiskDecision): void;
  audit?(r: AuditRecord): void;
  orderUpdate?(u: OrderUpdateOut): void;
  anomaly?(kind: string, clientOrderId: string, message: string): void;
  /** strategyFailure: a strategy threw and is disabled from then on (the others go on). */
  strategyFailure?(f: StrategyFailure): void;
  portfolio?(p: PortfolioView): void;
  riskCommand?(c: RiskCommand): void;
  positionCommand?(c: PositionCommand): void;
}

/** BrokerPort carries out the execution core's broker commands; answers return via execution(). */
export interface BrokerPort {
  send(cmd: SendOrder, nowNs: bigint): void;
  cancel(cmd: CancelOrder, nowNs: bigint): void;
  resolve(clientOrderId: string, nowNs: bigint): void;
}

/**
 * KernelInput: one call of an entry point, as an input log records it. Replaying the log of a
 * run through a new kernel (same config and model) gives the same commands in the same order.
 * IMPORTANT: `event` objects may be reused by the caller after the call: copy what you keep.
 */
export type KernelInput =
  | { kind: "start"; nowNs: bigint; account: StartingAccount }
  | { kind: "market"; nowNs: bigint; event: MarketDataEvent }
  | { kind: "execution"; event: ExecutionEvent }
  | { kind: "advance"; nowNs: bigint }
  | { kind: "reconcile"; nowNs: bigint; cash: Fixed; positions: readonly BrokerPosition[] }
  | { kind: "control"; event: RiskEvent };

export interface KernelPorts {
  /** score: runs a strategy's model synchronously on its input (undefined: the model failed). */
  score: ModelScore;
  /** onInput sees every entry-point call before it runs (the input log of a recording). */
  onInput?: (input: KernelInput) => void;
  broker: BrokerPort;
  /** scheduleRetry: call `execution({type: "RetryDue", ...})` at `atNs`. */
  scheduleRetry(clientOrderId: string, atNs: bigint): void;
  observer?: KernelObserver;
}

/** StartingAccount: what the broker says at start (the tracker reconciles against it). */
export interface StartingAccount {
  cash: Fixed;
  positions: readonly BrokerPosition[];
}

type Delivery =
  | { to: "risk"; event: RiskEvent }
  | { to: "execution"; event: ExecutionEvent }
  | { to: "positions"; event: PositionEvent };

export class Kernel {
  readonly marketDataCore: MarketDataCore;
  readonly strategyEngine: StrategyEngine;
  readonly risk: RiskState;
  readonly executionState: ExecutionState;
  readonly positions: PositionState;
  readonly config: KernelConfig;
  private readonly ports: KernelPorts;
  private readonly observer: KernelObserver;
  private readonly ids = new SignalIds();
  private readonly queue: Delivery[] = [];
  private draining = false;
  private nowNs = 0n;
  private readonly modelInputs = new Map<string, Float32Array>();
  /** numbers: each symbol's last quote as numbers (most quotes repeat some of its fields). */
  private readonly numbers = new Map<string, QuoteNumbers>();
  private readonly tick: { -readonly [K in keyof ReplayQuote]: ReplayQuote[K] } = {
    symbol: "",
    timeNs: 0n,
    bidPrice: 0,
    bidSize: 0,
    askPrice: 0,
    askSize: 0,
  };
  /** One reused quote event: the execution core and the tracker read it and keep nothing. */
  private readonly quoteEvent = {
    type: "QuoteReceived" as const,
    timeNs: 0n,
    symbol: "",
    bid: 0n,
    ask: 0n,
  };
  private readonly tradeEvent = {
    type: "TradeReceived" as const,
    timeNs: 0n,
    symbol: "",
    price: 0n,
  };

  constructor(config: KernelConfig, ports: KernelPorts) {
    this.config = config;
    this.ports = ports;
    this.observer = ports.observer ?? {};
    this.marketDataCore = new MarketDataCore(
      config.marketDataDepth === undefined ? {} : { depth: config.marketDataDepth },
    );
    this.strategyEngine = new StrategyEngine(config.strategies.slots, config.strategies.rules);
    this.risk = createRiskState(config.risk);
    this.executionState = createExecutionState(config.execution);
    this.positions = createPositionState(config.positions);
  }

  /** now is the time of the last entry point call. */
  get now(): bigint {
    return this.nowNs;
  }

  /**
   * start tells the cores the broker's account (the tracker reconciles against it and opens its
   * trading gate) and that the engine has (re)started.
   */
  start(nowNs: bigint, account: StartingAccount): void {
    this.ports.onInput?.({ kind: "start", nowNs, account });
    this.nowNs = nowNs;
    // Cash and positions read from one state of the account, as the shell's reconciliation
    // reads them: the tracker takes the cash only when the positions reconcile.
    this.enqueue({
      to: "positions",
      event: {
        type: "BrokerPositionsReceived",
        timeNs: nowNs,
        positions: account.positions,
        cash: account.cash,
      },
    });
    this.enqueue({ to: "execution", event: { type: "Started", timeNs: nowNs } });
    this.drain();
  }

  /** reconcile hands the tracker the broker's positions (as the shell's periodic check does). */
  reconcile(nowNs: bigint, cash: Fixed, positions: readonly BrokerPosition[]): void {
    this.ports.onInput?.({ kind: "reconcile", nowNs, cash, positions });
    this.nowNs = nowNs;
    this.enqueue({
      to: "positions",
      event: { type: "BrokerPositionsReceived", timeNs: nowNs, positions, cash },
    });
    this.drain();
  }

  /** marketData feeds one feed event received at `nowNs` through all five cores. */
  marketData(event: MarketDataEvent, nowNs: bigint): void {
    this.ports.onInput?.({ kind: "market", nowNs, event });
    this.nowNs = nowNs;
    const outputs = this.marketDataCore.apply(event);
    // IMPORTANT: outputs are reused by the next apply; read each fully here.
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      if (o.type === "quote") {
        const q = o.quote;
        const e = this.quoteEvent;
        e.timeNs = event.timeNs;
        e.symbol = o.symbol;
        e.bid = q.bidPrice;
        e.ask = q.askPrice;
        this.runExecution(stepExecution(this.executionState, e));
        this.runPositions(stepPositions(this.positions, e));
        this.drain();
        if (this.config.noStrategy !== true)
          this.onQuote(o.symbol, event.timeNs, q.bidPrice, q.bidSize, q.askPrice, q.askSize);
      } else if (o.type === "trade") {
        const e = this.tradeEvent;
        e.timeNs = event.timeNs;
        e.symbol = o.symbol;
        e.price = o.quote.lastPrice;
        this.runExecution(stepExecution(this.executionState, e));
        this.runPositions(stepPositions(this.positions, e));
      }
    }
    this.drain();
  }

  /** execution feeds one broker answer (or a due retry) to the execution core. */
  execution(event: ExecutionEvent): void {
    this.ports.onInput?.({ kind: "execution", event });
    if (event.timeNs > this.nowNs) this.nowNs = event.timeNs;
    this.enqueue({ to: "execution", event });
    this.drain();
  }

  /** advance lets time pass for the risk-manager and the tracker. */
  advance(nowNs: bigint): void {
    this.ports.onInput?.({ kind: "advance", nowNs });
    this.nowNs = nowNs;
    this.enqueue({ to: "risk", event: { type: "TimeAdvanced", timeNs: nowNs } });
    this.enqueue({ to: "positions", event: { type: "TimeAdvanced", timeNs: nowNs } });
    this.drain();
  }

  /** control delivers an operator command (kill switch, halt) to the risk-manager. */
  control(event: RiskEvent): void {
    this.ports.onInput?.({ kind: "control", event });
    this.enqueue({ to: "risk", event });
    this.drain();
  }

  private onQuote(
    symbol: string,
    eventTimeNs: bigint,
    bid: Fixed,
    bidSize: Fixed,
    ask: Fixed,
    askSize: Fixed,
  ): void {
    const t = this.tick;
    let n = this.numbers.get(symbol);
    if (n === undefined) {
      n = quoteNumbers();
      this.numbers.set(symbol, n);
    }
    t.bidPrice = n.bid.of(bid);
    t.askPrice = n.ask.of(ask);
    // A one-sided quote (no bid or no ask) has no mid: it is not a tick.
    if (!(t.bidPrice > 0 && t.askPrice > 0)) return;
    t.symbol = symbol;
    t.timeNs = eventTimeNs;
    t.bidSize = n.bidSize.of(bidSize);
    t.askSize = n.askSize.of(askSize);
    const engine = this.strategyEngine;
    const o = stepQuote(engine, t, this.modelInputs, this.ports.score);
    for (const f of engine.takeFailures()) this.observer.strategyFailure?.(f);
    if (o.direction === 0) return;
    const signalId = this.ids.next(symbol, eventTimeNs);
    const referencePrice = (bid + ask) / 2n;
    const quantity = decimalOf(Math.floor(o.targetQty), 0);
    const limitPrice = decimalOf(o.limitPrice, 4);
    this.observer.signal?.({
      signalId,
      symbol,
      eventTimeNs,
      nowNs: this.nowNs,
      direction: o.direction,
      confidence: o.confidence,
      strategyId: this.config.strategies.slots[o.leader]!.id,
      referencePrice,
      quantity,
      limitPrice,
      indicators: { ...(engine.indicatorsOf(o.leader) ?? {}) },
    });
    const proposal = proposalFromSignal(
      {
        signalId,
        symbol,
        action: o.direction > 0 ? "buy" : "sell",
        referencePrice,
        quantity,
        limitPrice,
      },
      this.config.orderQty,
      eventTimeNs,
      signalId,
    );
    if (proposal !== null) this.enqueue({ to: "risk", event: proposal });
  }

  private enqueue(d: Delivery): void {
    this.queue.push(d);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const q = this.queue;
      for (let i = 0; i < q.length; i++) {
        const d = q[i]!;
        if (d.to === "risk") this.runRisk(stepRisk(this.risk, d.event));
        else if (d.to === "execution")
          this.runExecution(stepExecution(this.executionState, d.event));
        else this.runPositions(stepPositions(this.positions, d.event));
      }
      // Only when something was queued: emptying an empty array still drops its storage.
      if (q.length !== 0) q.length = 0;
    } finally {
      this.draining = false;
    }
  }

  private runRisk(commands: RiskCommand[]): void {
    for (const c of commands) {
      this.observer.riskCommand?.(c);
      if (c.type !== "PublishDecision") continue;
      this.observer.decision?.(c.decision);
      const approval = approvalForExecution(c.decision);
      if (approval !== null) {
        approval.timeNs = this.nowNs;
        this.enqueue({ to: "execution", event: approval });
      }
    }
  }

  private runExecution(commands: ExecutionCommand[]): void {
    for (const c of commands) {
      switch (c.type) {
        case "WriteAudit":
          this.observer.audit?.(c.record);
          break;
        case "SendOrder":
          this.ports.broker.send(c, this.nowNs);
          break;
        case "CancelOrder":
          this.ports.broker.cancel(c, this.nowNs);
          break;
        case "ResolveOrder":
          this.ports.broker.resolve(c.clientOrderId, this.nowNs);
          break;
        case "ScheduleRetry":
          this.ports.scheduleRetry(c.clientOrderId, c.atNs);
          break;
        case "ReportAnomaly":
          this.observer.anomaly?.(c.kind, c.clientOrderId, c.message);
          break;
        case "PublishOrderUpdate": {
          const u = c.update;
          this.observer.orderUpdate?.(u);
          const fill = fillForTracker(u);
          if (fill !== null) this.enqueue({ to: "positions", event: fill });
          for (const e of eventsForRisk(u)) this.enqueue({ to: "risk", event: e });
          break;
        }
      }
    }
  }

  private runPositions(commands: PositionCommand[]): void {
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i]!;
      this.observer.positionCommand?.(c);
      if (c.type === "PublishPortfolio") this.observer.portfolio?.(c.portfolio);
      const e = eventForRisk(c, this.nowNs);
      if (e !== null) this.enqueue({ to: "risk", event: e });
    }
  }
}
