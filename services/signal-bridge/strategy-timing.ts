/**
 * timedSlots wraps each strategy's instances so that one call in `every` to onTick or onScore is
 * timed and observed: per-strategy latency for the metrics without a clock read on every tick.
 * Shell code: the engine and the strategies stay clock-free; a throw passes through untouched
 * (the engine isolates it).
 */
import type { StrategyDefinition, StrategyInstance } from "./strategy/api.ts";
import type { StrategySlot } from "./strategy/slot.ts";

export function timedSlots(
  slots: readonly StrategySlot[],
  observe: (slot: number, seconds: number) => void,
  every = 16,
): StrategySlot[] {
  return slots.map((slot, i) => {
    const def = slot.definition;
    const definition: StrategyDefinition = {
      ...def,
      create(params, symbol) {
        const inner: StrategyInstance = def.create(params, symbol);
        let n = 0;
        const wrapped: StrategyInstance = {
          onTick(tick, features, out) {
            if (++n < every) return inner.onTick(tick, features, out);
            n = 0;
            const t0 = process.hrtime.bigint();
            const r = inner.onTick(tick, features, out);
            observe(i, Number(process.hrtime.bigint() - t0) / 1e9);
            return r;
          },
        };
        if (inner.writeModelInput) wrapped.writeModelInput = (o) => inner.writeModelInput!(o);
        if (inner.onScore) {
          wrapped.onScore = (score, out) => {
            const t0 = process.hrtime.bigint();
            inner.onScore!(score, out);
            observe(i, Number(process.hrtime.bigint() - t0) / 1e9);
          };
        }
        if (inner.indicators) wrapped.indicators = () => inner.indicators!();
        return wrapped;
      },
    };
    return { ...slot, definition };
  });
}
