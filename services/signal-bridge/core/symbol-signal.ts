/**
 * SymbolSignal is the signal-bridge's functional core for one symbol: O(1) indicator updates per
 * top-of-book change, the indicator rules, the feature vector, and the decision that combines the
 * rules with the model score into BUY / SELL / HOLD with a confidence.
 *
 * Use from the shell, per top-of-book change of the symbol:
 *   if (sig.onTopOfBook(top)) { score = model(sig.writeFeatures()); d = sig.decide(score) }
 * `onTopOfBook` returns false on every tick where the decision is HOLD whatever the model says
 * (warming up, no rule fired, or this episode already signalled), so the model is only run where
 * it can change the outcome.
 *
 * A tick is a change of the mid price: a size-only change updates the book features but does not
 * advance the indicators (a repeated price would pull RSI toward 50 for no reason).
 *
 * IMPORTANT: calls for one symbol must be serialized (no onTopOfBook between an onTopOfBook that
 * returned true and its decide), and the returned Decision object is reused by the next decide.
 */
import { Bollinger } from "./bollinger.ts";
import { FEATURE_COUNT, type FeatureInputs, writeFeatures } from "./features.ts";
import { Macd } from "./macd.ts";
import type { SignalParams } from "./params.ts";
import { Rsi } from "./rsi.ts";

export interface TopOfBook {
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}

/** Rule bits in Decision.rules. */
export const RULES = {
  rsiOversold: 1,
  belowLowerBand: 2,
  macdCrossUp: 4,
  rsiOverbought: 8,
  aboveUpperBand: 16,
  macdCrossDown: 32,
} as const;

/** RULE_VOTE_LOG_ODDS is the evidence one agreeing rule adds: odds of 60:40 (ln 1.5). */
export const RULE_VOTE_LOG_ODDS = Math.log(1.5);

export type Action = "BUY" | "SELL" | "HOLD";

export type DecisionReason =
  | "signal"
  | "warming-up"
  | "no-rule"
  | "already-signalled"
  | "no-score"
  | "model-disagrees"
  | "low-confidence";

export interface Decision {
  action: Action;
  /** Probability-like confidence (0..1) that `action` is right; 0 for a HOLD without a model. */
  confidence: number;
  /** Bit set of RULES that fired on this tick. */
  rules: number;
  /** Bullish minus bearish rules that fired. */
  votes: number;
  /** The model's P(up) that was used, NaN when the model was not needed. */
  modelScore: number;
  reason: DecisionReason;
}

/** describeRules names the rules in a bit set, e.g. "rsiOversold+belowLowerBand". */
export function describeRules(rules: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(RULES)) if (rules & bit) names.push(name);
  return names.join("+");
}

/** Lookback of the return features (return_5_bps needs the mid 5 ticks ago). */
const MID_HISTORY = 6;

/**
 * TICK_MEMO_WIDTH: numbers `saveTick` writes per tick: what onTopOfBook computes from the ticks
 * alone (its outcome, the mid, rules, votes, the indicators' values, the mids 1 and 5 ago).
 */
export const TICK_MEMO_WIDTH = 10;
const MEMO_UNCHANGED = 0;
const MEMO_WARMING = 1;
const MEMO_READY = 2;

export class SymbolSignal {
  readonly params: SignalParams;
  readonly rsi: Rsi;
  readonly macd: Macd;
  readonly bollinger: Bollinger;
  /** ticks counts mid-price changes seen. */
  ticks = 0;
  private readonly mids = new Float64Array(MID_HISTORY);
  private readonly inputs: FeatureInputs = {
    rsi: 50,
    macdHistogram: 0,
    percentB: 0.5,
    bandwidth: 0,
    mid: 0,
    mid1Ago: 0,
    mid5Ago: 0,
    bidPrice: 0,
    askPrice: 0,
    bidSize: 0,
    askSize: 0,
  };
  private readonly featureBuffer = new Float32Array(FEATURE_COUNT);
  private readonly decision: Decision = {
    action: "HOLD",
    confidence: 0,
    rules: 0,
    votes: 0,
    modelScore: Number.NaN,
    reason: "warming-up",
  };
  private rules = 0;
  private votes = 0;
  private episode = 0;
  private signalled = false;
  private needsModel = false;
  /** What the last onTopOfBook computed: MEMO_UNCHANGED, MEMO_WARMING or MEMO_READY. */
  private outcome = MEMO_WARMING;
  /**
   * replayed: this signal is fed saved ticks (onSavedTopOfBook) and its own indicators never
   * move; readiness and the indicators' values are then the saved ones.
   */
  private replayed = false;
  private savedReady = false;
  private readonly savedValues = new Float64Array(4);

  constructor(params: SignalParams) {
    this.params = params;
    this.rsi = new Rsi(params.rsiPeriod);
    this.macd = new Macd(params.macdFast, params.macdSlow, params.macdSignal);
    this.bollinger = new Bollinger(params.bollingerPeriod, params.bollingerStdDev);
    this.indicatorValues(this.savedValues, 0);
  }

  /** ready says whether every indicator and the return history are warmed up. */
  get ready(): boolean {
    if (this.replayed) return this.savedReady;
    return this.rsi.ready && this.macd.ready && this.bollinger.ready && this.ticks >= MID_HISTORY;
  }

  /** onTopOfBook feeds a new best bid/ask; returns whether `decide` needs a model score. */
  onTopOfBook(top: TopOfBook): boolean {
    const s = this.inputs;
    s.bidPrice = top.bidPrice;
    s.askPrice = top.askPrice;
    s.bidSize = top.bidSize;
    s.askSize = top.askSize;
    const mid = (top.bidPrice + top.askPrice) / 2;
    if (mid === s.mid) {
      this.outcome = MEMO_UNCHANGED;
      this.needsModel = false;
      return false;
    }
    s.mid = mid;
    this.mids[this.ticks % MID_HISTORY] = mid;
    this.ticks++;
    this.rsi.update(mid);
    this.macd.update(mid);
    this.bollinger.update(mid);
    if (!this.ready) {
      this.outcome = MEMO_WARMING;
      this.needsModel = false;
      return false;
    }
    this.outcome = MEMO_READY;
    s.rsi = this.rsi.value;
    s.macdHistogram = this.macd.histogram;
    s.percentB = this.bollinger.percentB;
    s.bandwidth = this.bollinger.bandwidth;
    s.mid1Ago = this.mids[(this.ticks - 2) % MID_HISTORY]!;
    s.mid5Ago = this.mids[(this.ticks - 6) % MID_HISTORY]!;
    this.evaluateRules(mid);
    return this.gate();
  }

  /** gate: the episode's part of onTopOfBook (it depends on what was signalled, not on ticks). */
  private gate(): boolean {
    const direction = Math.sign(this.votes);
    if (direction !== this.episode) {
      this.episode = direction;
      this.signalled = false;
    }
    this.needsModel = direction !== 0 && !this.signalled;
    return this.needsModel;
  }

  /**
   * saveTick writes, after onTopOfBook, what it computed from the ticks alone (TICK_MEMO_WIDTH
   * numbers at `o`), so another signal of the same parameters fed the same ticks can take it
   * (onSavedTopOfBook) instead of computing its indicators again: a backtest's shadow pass.
   * A tick that left the mid alone changed nothing but the sizes: only its outcome is written.
   */
  saveTick(out: Float64Array, o: number): void {
    const outcome = this.outcome;
    out[o] = outcome;
    if (outcome === MEMO_UNCHANGED) return;
    const s = this.inputs;
    out[o + 1] = s.mid;
    if (outcome === MEMO_WARMING) {
      // Still warming: the feature inputs keep their old values, the indicators move.
      this.indicatorValues(out, o + 4);
      return;
    }
    out[o + 2] = this.rules;
    out[o + 3] = this.votes;
    // Ready: the feature inputs are the indicators' values.
    out[o + 4] = s.rsi;
    out[o + 5] = s.macdHistogram;
    out[o + 6] = s.percentB;
    out[o + 7] = s.bandwidth;
    out[o + 8] = s.mid1Ago;
    out[o + 9] = s.mid5Ago;
  }

  /**
   * onSavedTopOfBook is onTopOfBook on a tick whose tick-only part another signal saved
   * (saveTick): the same answer and the same state as onTopOfBook on that tick. IMPORTANT: a
   * signal fed this way must be fed every tick this way (its own indicators stay where they are).
   */
  onSavedTopOfBook(top: TopOfBook, saved: Float64Array, o: number): boolean {
    this.replayed = true;
    const s = this.inputs;
    s.bidPrice = top.bidPrice;
    s.askPrice = top.askPrice;
    s.bidSize = top.bidSize;
    s.askSize = top.askSize;
    const outcome = saved[o]!;
    this.outcome = outcome;
    if (outcome === MEMO_UNCHANGED) {
      this.needsModel = false;
      return false;
    }
    s.mid = saved[o + 1]!;
    this.ticks++;
    const v = this.savedValues;
    v[0] = saved[o + 4]!;
    v[1] = saved[o + 5]!;
    v[2] = saved[o + 6]!;
    v[3] = saved[o + 7]!;
    if (outcome === MEMO_WARMING) {
      this.savedReady = false;
      this.needsModel = false;
      return false;
    }
    this.savedReady = true;
    s.rsi = v[0];
    s.macdHistogram = v[1];
    s.percentB = v[2];
    s.bandwidth = v[3];
    s.mid1Ago = saved[o + 8]!;
    s.mid5Ago = saved[o + 9]!;
    this.rules = saved[o + 2]!;
    this.votes = saved[o + 3]!;
    return this.gate();
  }

  /** indicatorValues writes RSI, MACD histogram, Bollinger %B and bandwidth at `o` (live or saved). */
  indicatorValues(out: Float64Array, o: number): void {
    if (this.replayed) {
      out.set(this.savedValues, o);
      return;
    }
    out[o] = this.rsi.value;
    out[o + 1] = this.macd.histogram;
    out[o + 2] = this.bollinger.percentB;
    out[o + 3] = this.bollinger.bandwidth;
  }

  /** writeFeatures fills the feature vector (into `out`, or a buffer the signal owns). */
  writeFeatures(out: Float32Array = this.featureBuffer): Float32Array {
    return writeFeatures(this.inputs, out);
  }

  /** decide turns the last tick's rules and the model's P(up) into a decision (see IMPORTANT). */
  decide(score?: number): Decision {
    const d = this.decision;
    d.rules = this.rules;
    d.votes = this.votes;
    d.modelScore = Number.NaN;
    d.confidence = 0;
    d.action = "HOLD";
    if (!this.needsModel) {
      d.reason = !this.ready ? "warming-up" : this.votes === 0 ? "no-rule" : "already-signalled";
      return d;
    }
    if (score === undefined || !(score >= 0 && score <= 1)) {
      d.reason = "no-score";
      return d;
    }
    d.modelScore = score;
    const buy = this.votes > 0;
    const agreement = buy ? score : 1 - score;
    d.confidence = combineConfidence(agreement, Math.abs(this.votes));
    if (agreement <= 0.5) {
      d.reason = "model-disagrees";
    } else if (d.confidence < this.params.minConfidence) {
      d.reason = "low-confidence";
    } else {
      d.action = buy ? "BUY" : "SELL";
      d.reason = "signal";
      this.signalled = true;
      this.needsModel = false;
    }
    return d;
  }

  private evaluateRules(mid: number): void {
    const p = this.params;
    const rsi = this.rsi.value;
    const hist = this.macd.histogram;
    const prevHist = this.macd.previousHistogram;
    let rules = 0;
    if (rsi <= p.rsiOversold) rules |= RULES.rsiOversold;
    if (rsi >= p.rsiOverbought) rules |= RULES.rsiOverbought;
    if (mid < this.bollinger.lower) rules |= RULES.belowLowerBand;
    if (mid > this.bollinger.upper) rules |= RULES.aboveUpperBand;
    if (prevHist <= 0 && hist > 0) rules |= RULES.macdCrossUp;
    if (prevHist >= 0 && hist < 0) rules |= RULES.macdCrossDown;
    this.rules = rules;
    this.votes =
      (rules & RULES.rsiOversold ? 1 : 0) +
      (rules & RULES.belowLowerBand ? 1 : 0) +
      (rules & RULES.macdCrossUp ? 1 : 0) -
      (rules & RULES.rsiOverbought ? 1 : 0) -
      (rules & RULES.aboveUpperBand ? 1 : 0) -
      (rules & RULES.macdCrossDown ? 1 : 0);
  }
}

/**
 * combineConfidence adds the evidence in log-odds: the model's agreement with the rules'
 * direction plus RULE_VOTE_LOG_ODDS per agreeing rule, mapped back to a probability.
 */
export function combineConfidence(agreement: number, votes: number): number {
  const a = Math.min(Math.max(agreement, 1e-9), 1 - 1e-9);
  const logOdds = Math.log(a / (1 - a)) + RULE_VOTE_LOG_ODDS * votes;
  return 1 / (1 + Math.exp(-logOdds));
}
