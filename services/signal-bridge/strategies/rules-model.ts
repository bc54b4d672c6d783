/**
 * rules-model is the built-in strategy as an implementation of the strategy API: the RSI / MACD /
 * Bollinger rules voted per tick and the ONNX model's P(up) combined with them (see the
 * signal-bridge README, "Decision"). It wraps SymbolSignal unchanged, so its decisions are the
 * ones the signal-bridge has always made; its parameters are the spec's `strategy` block.
 *
 * It computes its indicators itself rather than declaring library features: its feature vector
 * (core/features.ts) is the model's input contract and must stay exactly what it was trained on.
 */
import { Type } from "@sinclair/typebox";
import { isTradepipeError } from "../../core/errors.ts";
import { StrategySchema } from "../../core/spec/schema-trading.ts";
import { FEATURE_COUNT } from "../core/features.ts";
import { validateSignalParams } from "../core/params.ts";
import {
  type Decision as RulesDecision,
  SymbolSignal,
  TICK_MEMO_WIDTH,
} from "../core/symbol-signal.ts";
import { act, defineStrategy, hold } from "../strategy/api.ts";

/** The spec's strategy block without orderQty (a pipeline setting, not the strategy's). */
export const RulesModelParams = Type.Omit(StrategySchema, ["orderQty"], {
  additionalProperties: false,
});

export default defineStrategy({
  name: "rules-model",
  description: "RSI / MACD / Bollinger rules combined with the ONNX model's score.",
  params: RulesModelParams,
  check(p) {
    try {
      validateSignalParams(p, "params");
      return undefined;
    } catch (err) {
      if (isTradepipeError(err, "TP_ERR_CONFIG")) return err.message;
      throw err;
    }
  },
  model: (p) => ({ path: p.modelRef, inputs: FEATURE_COUNT }),
  create(p) {
    const sig = new SymbolSignal(p);
    const names = [
      `rsi_${p.rsiPeriod}`,
      `macd_hist_${p.macdFast}_${p.macdSlow}_${p.macdSignal}`,
      `bollinger_pct_b_${p.bollingerPeriod}`,
      `bollinger_bandwidth_${p.bollingerPeriod}`,
    ] as const;
    /** The core's last decision (its object is reused by SymbolSignal, read in indicators()). */
    let last: RulesDecision | undefined;
    // One values object, refreshed per call (read right after the decision, as the API says):
    // an object literal with computed names costs a runtime call per property on every signal.
    const values: Record<string, number> = {};
    for (const name of [...names, "model_score", "rule_votes", "rules"]) values[name] = Number.NaN;
    const shown = new Float64Array(4);
    return {
      onTick(tick, _features, out) {
        if (sig.onTopOfBook(tick)) return true;
        last = sig.decide();
        hold(out, last.reason);
        return false;
      },
      // The indicators are a function of the ticks alone: a backtest's shadow computes them once.
      memoWidth: TICK_MEMO_WIDTH,
      saveTick(buf, offset) {
        sig.saveTick(buf, offset);
      },
      onSavedTick(saved, offset, tick, _features, out) {
        if (sig.onSavedTopOfBook(tick, saved, offset)) return true;
        last = sig.decide();
        hold(out, last.reason);
        return false;
      },
      writeModelInput(buf) {
        sig.writeFeatures(buf);
      },
      onScore(score, out) {
        const d = sig.decide(score);
        last = d;
        if (d.action === "HOLD") hold(out, d.reason);
        else act(out, d.action === "BUY" ? 1 : -1, d.confidence, d.reason);
      },
      indicators() {
        const d = last;
        sig.indicatorValues(shown, 0);
        values[names[0]] = shown[0]!;
        values[names[1]] = shown[1]!;
        values[names[2]] = shown[2]!;
        values[names[3]] = shown[3]!;
        values.model_score = d?.modelScore ?? Number.NaN;
        values.rule_votes = d?.votes ?? 0;
        values.rules = d?.rules ?? 0;
        return values;
      },
    };
  },
});
