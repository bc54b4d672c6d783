/**
 * model-features: a strategy that is a trained model. It declares exactly the features the model
 * was trained on (its `features` parameter, in input order, as the model's `feature_names` lists
 * them: `rsi(period=14)`, `spread_bps()`, ...), so the signal-bridge computes only those, feeds
 * them to the model once all are warm, and buys when the score (P(up)) is above `buyAbove`,
 * sells when below `sellBelow`, once per crossing. Because the model reference carries the feature
 * list, the signal-bridge refuses at start a model whose metadata does not match it
 * (model-contract.ts): names, definition hash, dtype, golden rows.
 */
import type { FeatureRef } from "../strategy/api.ts";
import { act, defineStrategy, hold, Type } from "../strategy/api.ts";
import { parseFeatureKey } from "../strategy/feature-library.ts";

const refsOf = (keys: readonly string[]): FeatureRef[] =>
  keys.map((k, i) => parseFeatureKey(k, `params.features[${i}]`));

export default defineStrategy({
  name: "model-features",
  description: "A trained model (tradepipe train) over the library features it declares.",
  params: Type.Object(
    {
      modelRef: Type.String({ minLength: 1 }),
      features: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      buyAbove: Type.Number({ default: 0.6, minimum: 0, maximum: 1 }),
      sellBelow: Type.Number({ default: 0.4, minimum: 0, maximum: 1 }),
    },
    { additionalProperties: false },
  ),
  check: (p) =>
    p.sellBelow < p.buyAbove ? undefined : "params.sellBelow must be below params.buyAbove",
  features: (p) => Object.fromEntries(refsOf(p.features).map((r, i) => [`f${i}`, r])),
  model: (p) => ({ path: p.modelRef, inputs: p.features.length, features: refsOf(p.features) }),
  create(p) {
    const n = p.features.length;
    const values = new Float64Array(n);
    let side = 0;
    return {
      onTick(_tick, f, out) {
        const named = f as Readonly<Record<string, number>>;
        for (let i = 0; i < n; i++) {
          const v = named[`f${i}`]!;
          if (!Number.isFinite(v)) {
            hold(out, "warming-up");
            return false;
          }
          values[i] = v;
        }
        return true;
      },
      writeModelInput(buf) {
        for (let i = 0; i < n; i++) buf[i] = values[i]!;
      },
      onScore(score, out) {
        if (score === undefined) {
          hold(out, "no-score");
          return;
        }
        const now = score > p.buyAbove ? 1 : score < p.sellBelow ? -1 : 0;
        if (now === 0 || now === side) {
          hold(out, "no-change");
          return;
        }
        side = now;
        act(out, now > 0 ? 1 : -1, Math.abs(score - 0.5) * 2, now > 0 ? "model-up" : "model-down");
      },
    };
  },
});
