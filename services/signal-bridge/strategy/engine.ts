/**
 * StrategyEngine is the signal-bridge's multi-strategy core: per quote it advances the declared
 * features, asks each enabled strategy for a decision, lets model-based strategies have their
 * score, and aggregates the decisions of the symbol into one outcome (aggregate.ts has the rules).
 * Pure and deterministic like every stage core: no clock, no I/O; the model runs in the shell.
 *
 * Use, per two-sided quote (see replay.ts for the whole loop):
 *   const n = engine.onQuote(symbol, timeNs, bid, bidSize, ask, askSize);
 *   for (let i = 0; i < n; i++) {                          // model requests of this quote
 *     engine.writeModelInput(i, input); engine.setScore(i, run(engine.modelOf(i), input));
 *   }
 *   const outcome = engine.finish();                       // outcome.direction 0: no signal
 *
 * Isolation: a strategy that throws is disabled for every symbol from then on; the failure is
 * queued in `failures` for the shell to log, count and report, and the other strategies go on.
 *
 * IMPORTANT: calls are serialized (onQuote, its model requests, finish, then the next quote), and
 * the Outcome and Decision objects are reused: valid until the next onQuote.
 */

import {
  type AggregationRules,
  aggregate,
  type Outcome,
  type SymbolMemory,
  type VotingSlot,
} from "./aggregate.ts";
import type { Decision, Direction, ModelRef, StrategyInstance, Tick } from "./api.ts";
import { type FeatureComputer, resolveFeature } from "./feature-library.ts";
import type { StrategySlot } from "./slot.ts";

/**
 * TickMemo carries, quote by quote, what a shadow engine computed from the ticks alone (the
 * features' values and each memo-capable strategy's `saveTick`) to an engine fed the same quotes
 * later (a backtest's kernel), which then computes none of it. Records are `width` numbers in
 * `data`; `append` and `take` are called once per two-sided quote, in the same order on both
 * sides, and `take` refuses a quote that is not the one appended (IMPORTANT: a mismatch is a bug
 * of the wiring, never silently tolerated).
 */
export interface TickMemo {
  /** data: the records (may be replaced as it grows: read it after append/take). */
  readonly data: Float64Array;
  /** append reserves the next record of `width` numbers for this quote; returns its offset. */
  append(
    symbol: string,
    bid: number,
    ask: number,
    bidSize: number,
    askSize: number,
    width: number,
  ): number;
  /** take returns the offset of the next record, which must be this quote's. */
  take(
    symbol: string,
    bid: number,
    ask: number,
    bidSize: number,
    askSize: number,
    width: number,
  ): number;
}

/** StrategyFailure is a strategy that threw, and where. */
export interface StrategyFailure {
  readonly id: string;
  readonly slot: number;
  readonly symbol: string;
  readonly timeNs: bigint;
  readonly phase: "create" | "onTick" | "writeModelInput" | "onScore" | "indicators";
  readonly error: string;
}

interface MutableTick {
  symbol: string;
  timeNs: bigint;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  mid: number;
  priceChanged: boolean;
}

/** FeatureBinding copies shared computers' values into one strategy's named feature object. */
interface FeatureBinding {
  readonly keys: readonly string[];
  readonly computers: readonly number[];
  readonly values: Record<string, number>;
}

interface SymbolState {
  readonly tick: MutableTick;
  readonly computers: FeatureComputer[];
  readonly instances: (StrategyInstance | undefined)[];
  readonly bindings: FeatureBinding[];
  readonly votes: VotingSlot[];
  /** The aggregation's memory of the symbol (its cool-down). */
  readonly memory: SymbolMemory;
  /**
   * memoAt[i]: where slot i's tick memo starts in a record (a flag, then its memoWidth numbers),
   * −1 when its instance keeps none; memoWidth: a record's width (features first).
   */
  readonly memoAt: number[];
  memoWidth: number;
}

/** Plan of the features: per slot, its keys and the index of each in the shared computers. */
interface FeaturePlan {
  readonly computerKeys: string[];
  readonly make: (() => FeatureComputer)[];
  readonly slots: { keys: string[]; computers: number[] }[];
}

export class StrategyEngine {
  readonly slots: readonly StrategySlot[];
  readonly rules: AggregationRules;
  /** enabled[i] is false once slot i threw. */
  readonly enabled: boolean[];
  /** decisions[i] is slot i's decision on the last quote (HOLD "disabled" when disabled). */
  readonly decisions: Decision[];
  /** failures not yet taken by the shell (takeFailures). */
  private failures: StrategyFailure[] = [];
  private readonly plan: FeaturePlan;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly outcome: Outcome;
  /** Slots that asked for a model score on the current quote. */
  private readonly pending: number[] = [];
  /**
   * pendingCount: requests of the current quote in `pending` (a count, not `length = 0` per
   * quote: emptying an array drops its storage and costs a runtime call on every quote).
   */
  private pendingCount = 0;
  private current: SymbolState | undefined;
  /** memo: the tick memo this engine records into or replays from (memoMode), if any. */
  private memo: TickMemo | undefined;
  private memoMode: "record" | "replay" | undefined;

  constructor(slots: readonly StrategySlot[], rules: AggregationRules) {
    this.slots = slots;
    this.rules = rules;
    this.enabled = slots.map(() => true);
    this.decisions = slots.map(newDecision);
    this.plan = planFeatures(slots);
    this.outcome = {
      symbol: "",
      timeNs: 0n,
      direction: 0,
      confidence: 0,
      targetQty: 0,
      limitPrice: 0,
      leader: -1,
      vetoedBy: -1,
      reason: "no-vote",
    };
  }

  /**
   * useTickMemo makes this engine record what it computes from the ticks into `memo` (a shadow),
   * or replay it from `memo` instead of computing it. Call before the first quote.
   */
  useTickMemo(memo: TickMemo, mode: "record" | "replay"): void {
    if (this.symbols.size > 0) throw new Error("useTickMemo: the engine has already seen quotes");
    this.memo = memo;
    this.memoMode = mode;
  }

  /** onQuote feeds one two-sided quote; returns how many model scores it needs. */
  onQuote(
    symbol: string,
    timeNs: bigint,
    bidPrice: number,
    bidSize: number,
    askPrice: number,
    askSize: number,
  ): number {
    const s = this.symbols.get(symbol) ?? this.addSymbol(symbol, timeNs);
    this.current = s;
    const t = s.tick;
    const mid = (bidPrice + askPrice) / 2;
    t.timeNs = timeNs;
    t.bidPrice = bidPrice;
    t.bidSize = bidSize;
    t.askPrice = askPrice;
    t.askSize = askSize;
    t.priceChanged = mid !== t.mid;
    t.mid = mid;
    const computers = s.computers;
    const memo = this.memo;
    const replay = memo !== undefined && this.memoMode === "replay";
    let at = -1;
    if (replay) {
      // The features' values come from the memo: the computers are not advanced.
      at = memo.take(symbol, bidPrice, askPrice, bidSize, askSize, s.memoWidth);
    } else {
      for (let c = 0; c < computers.length; c++) computers[c]!.update(t);
      if (memo !== undefined) {
        at = memo.append(symbol, bidPrice, askPrice, bidSize, askSize, s.memoWidth);
        const data = memo.data;
        for (let c = 0; c < computers.length; c++) data[at + c] = computers[c]!.value;
      }
    }
    this.pendingCount = 0;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const d = this.decisions[i]!;
      resetDecision(d);
      const inst = s.instances[i];
      if (!this.enabled[i] || inst === undefined) {
        d.reason = "disabled";
        continue;
      }
      const b = s.bindings[i]!;
      const keys = b.keys;
      if (replay) {
        const data = memo.data;
        for (let k = 0; k < keys.length; k++) b.values[keys[k]!] = data[at + b.computers[k]!]!;
      } else {
        for (let k = 0; k < keys.length; k++)
          b.values[keys[k]!] = computers[b.computers[k]!]!.value;
      }
      const m = s.memoAt[i]!;
      if (replay && m >= 0 && memo.data[at + m] !== 1) {
        // The shadow's instance failed where this one did not: its state cannot be replayed.
        throw new Error(
          `strategy ${slots[i]!.id}: no tick memo for ${symbol} at ${timeNs} (the shadow's instance failed)`,
        );
      }
      try {
        let asks: boolean | undefined;
        if (m < 0 || memo === undefined) {
          asks = inst.onTick(t, b.values, d);
        } else if (replay) {
          asks = inst.onSavedTick!(memo.data, at + m + 1, t, b.values, d);
        } else {
          memo.data[at + m] = 0;
          asks = inst.onTick(t, b.values, d);
          inst.saveTick!(memo.data, at + m + 1);
          memo.data[at + m] = 1;
        }
        if (asks !== true) continue;
        if (slots[i]!.model === undefined || !inst.writeModelInput || !inst.onScore) {
          throw new Error(
            "asked for a model score without a model (declare model(), writeModelInput and onScore)",
          );
        }
        this.pending[this.pendingCount++] = i;
      } catch (err) {
        this.fail(i, t, "onTick", err);
      }
    }
    return this.pendingCount;
  }

  /**
   * onTrade feeds one trade of a symbol to its trade-flow features (signed against the latest
   * quote). No decision is taken on a trade; a symbol not quoted yet ignores it.
   */
  onTrade(symbol: string, timeNs: bigint, price: number, size: number): void {
    const s = this.symbols.get(symbol);
    if (s === undefined) return;
    const computers = s.computers;
    for (let c = 0; c < computers.length; c++) computers[c]!.trade?.(timeNs, price, size);
  }

  /** modelOf is the model the i-th request of this quote needs. */
  modelOf(request: number): ModelRef {
    return this.slots[this.pending[request]!]!.model!;
  }

  /** slotOf is the slot index behind the i-th model request. */
  slotOf(request: number): number {
    return this.pending[request]!;
  }

  /** writeModelInput fills the model input of the i-th request; false if the strategy failed. */
  writeModelInput(request: number, out: Float32Array): boolean {
    const i = this.pending[request]!;
    const s = this.current!;
    if (!this.enabled[i]) return false;
    try {
      s.instances[i]!.writeModelInput!(out);
      return true;
    } catch (err) {
      this.fail(i, s.tick, "writeModelInput", err);
      return false;
    }
  }

  /** setScore gives the i-th request its score (undefined when the model failed). */
  setScore(request: number, score: number | undefined): void {
    const i = this.pending[request]!;
    const s = this.current!;
    if (!this.enabled[i]) return;
    try {
      s.instances[i]!.onScore!(score, this.decisions[i]!);
    } catch (err) {
      this.fail(i, s.tick, "onScore", err);
    }
  }

  /**
   * finish aggregates the decisions of this quote into the outcome (see aggregate.ts). A decision
   * out of range (direction not 1, −1 or 0; strength not in [0, 1]; a negative or non-finite
   * target or limit) is a failure of its strategy, like a throw.
   */
  finish(): Outcome {
    const s = this.current!;
    const votes = s.votes;
    for (let i = 0; i < votes.length; i++) {
      const d = this.decisions[i]!;
      if (this.enabled[i] && !validDecision(d)) {
        const problem = `invalid decision: direction ${d.direction}, strength ${d.strength}, targetQty ${d.targetQty}, limitPrice ${d.limitPrice}`;
        this.fail(i, s.tick, "onTick", new Error(problem));
      }
      if (!this.enabled[i]) resetDecision(d, "disabled");
      votes[i]!.decision = d;
    }
    return aggregate(
      this.rules,
      s.tick.symbol,
      s.tick.timeNs,
      s.tick.mid,
      votes,
      this.outcome,
      s.memory,
    );
  }

  /** indicatorsOf returns the slot's indicators for the current symbol (after a decision). */
  indicatorsOf(slot: number): Readonly<Record<string, number>> | undefined {
    const inst = this.current?.instances[slot];
    if (inst?.indicators === undefined || !this.enabled[slot]) return undefined;
    try {
      return inst.indicators();
    } catch (err) {
      this.fail(slot, this.current!.tick, "indicators", err);
      return undefined;
    }
  }

  /** takeFailures returns the failures since the last call and forgets them. */
  takeFailures(): StrategyFailure[] {
    const f = this.failures;
    if (f.length === 0) return f;
    this.failures = [];
    return f;
  }

  /** attribution is each slot's intended position and P&L per symbol (aggregate.ts). */
  attribution(): { id: string; symbol: string; position: number; pnl: number }[] {
    const out: { id: string; symbol: string; position: number; pnl: number }[] = [];
    for (const [symbol, s] of this.symbols) {
      s.votes.forEach((v, i) => {
        if (v.position === 0 && v.cash === 0) return;
        out.push({
          id: this.slots[i]!.id,
          symbol,
          position: v.position,
          pnl: v.cash + v.position * s.tick.mid,
        });
      });
    }
    return out;
  }

  private addSymbol(symbol: string, timeNs: bigint): SymbolState {
    const tick: MutableTick = {
      symbol,
      timeNs,
      bidPrice: 0,
      bidSize: 0,
      askPrice: 0,
      askSize: 0,
      mid: Number.NaN,
      priceChanged: true,
    };
    const state: SymbolState = {
      tick,
      computers: this.plan.make.map((make) => make()),
      instances: [],
      bindings: this.plan.slots.map((p) => ({
        keys: p.keys,
        computers: p.computers,
        values: Object.fromEntries(p.keys.map((k) => [k, Number.NaN])),
      })),
      memory: { lastSignalNs: -1n },
      memoAt: [],
      memoWidth: this.plan.make.length,
      votes: this.slots.map((slot) => ({
        weight: slot.weight,
        role: slot.role,
        budgetShares: slot.budgetShares,
        defaultQty: this.rules.defaultQty,
        decision: this.decisions[0]!,
        position: 0,
        cash: 0,
      })),
    };
    this.symbols.set(symbol, state);
    this.slots.forEach((slot, i) => {
      if (!this.enabled[i]) return;
      try {
        state.instances[i] = slot.definition.create(slot.params as never, symbol);
      } catch (err) {
        this.fail(i, tick, "create", err);
      }
    });
    // Every symbol's instances of a slot are the same strategy and parameters, so records have
    // one layout per symbol on both sides of a memo (a failed create keeps its place).
    this.slots.forEach((_slot, i) => {
      const inst = state.instances[i];
      const width = inst?.memoWidth;
      if (width === undefined || inst?.saveTick === undefined || inst.onSavedTick === undefined) {
        state.memoAt.push(-1);
        return;
      }
      state.memoAt.push(state.memoWidth);
      state.memoWidth += 1 + width;
    });
    return state;
  }

  private fail(i: number, t: Tick, phase: StrategyFailure["phase"], err: unknown): void {
    if (!this.enabled[i]) return;
    this.enabled[i] = false;
    resetDecision(this.decisions[i]!, "disabled");
    this.failures.push({
      id: this.slots[i]!.id,
      slot: i,
      symbol: t.symbol,
      timeNs: t.timeNs,
      phase,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

function planFeatures(slots: readonly StrategySlot[]): FeaturePlan {
  const computerKeys: string[] = [];
  const make: (() => FeatureComputer)[] = [];
  const planned = slots.map((slot) => {
    const keys: string[] = [];
    const computers: number[] = [];
    for (const [key, ref] of Object.entries(slot.features)) {
      const r = resolveFeature(ref, `${slot.where}: feature "${key}"`);
      let c = computerKeys.indexOf(r.key);
      if (c < 0) {
        c = computerKeys.length;
        computerKeys.push(r.key);
        make.push(() => r.kind.create(r.args));
      }
      keys.push(key);
      computers.push(c);
    }
    return { keys, computers };
  });
  return { computerKeys, make, slots: planned };
}

function validDecision(d: Decision): boolean {
  return (
    (d.direction === 1 || d.direction === -1 || d.direction === 0) &&
    d.strength >= 0 &&
    d.strength <= 1 &&
    d.targetQty >= 0 &&
    Number.isFinite(d.targetQty) &&
    d.limitPrice >= 0 &&
    Number.isFinite(d.limitPrice)
  );
}

function newDecision(): Decision {
  return { direction: 0, strength: 0, targetQty: 0, limitPrice: 0, reason: "" };
}

function resetDecision(d: Decision, reason = ""): void {
  d.direction = 0 as Direction;
  d.strength = 0;
  d.targetQty = 0;
  d.limitPrice = 0;
  d.reason = reason;
}
