/**
 * rules-only: the built-in strategy's RSI / MACD / Bollinger rules with no model, the no-model
 * baseline of the model comparison (model-backtest.bench.ts). Where rules-model would ask the
 * model, this gives the rules a neutral score that never vetoes (just above 0.5 in the rules'
 * direction), so the confidence is the rules' own evidence: ln(1.5) per agreeing rule in log-odds.
 */
import { validateSignalParams } from "../../../services/signal-bridge/core/params.ts";
import { SymbolSignal } from "../../../services/signal-bridge/core/symbol-signal.ts";
import { RulesModelParams } from "../../../services/signal-bridge/strategies/rules-model.ts";
import { act, defineStrategy, hold } from "../../../services/signal-bridge/strategy/api.ts";

/** NEUTRAL: a score that agrees with the rules by a hair, so the model never vetoes. */
const NEUTRAL = 1e-9;

export default defineStrategy({
  name: "rules-only",
  description: "The rules of rules-model without the model (a baseline).",
  params: RulesModelParams,
  check(p) {
    validateSignalParams(p, "params");
    return undefined;
  },
  create(p) {
    const sig = new SymbolSignal(p);
    return {
      onTick(tick, _features, out) {
        if (!sig.onTopOfBook(tick)) {
          hold(out, sig.decide().reason);
          return false;
        }
        // The rules' direction is not exposed: the neutral score that disagrees is a veto,
        // which changes nothing, and the other one then agrees.
        let d = sig.decide(0.5 + NEUTRAL);
        if (d.reason === "model-disagrees") d = sig.decide(0.5 - NEUTRAL);
        if (d.action === "HOLD") hold(out, d.reason);
        else act(out, d.action === "BUY" ? 1 : -1, d.confidence, d.reason);
        return false;
      },
    };
  },
});
