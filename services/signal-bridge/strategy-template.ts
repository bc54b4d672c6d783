/**
 * writeStrategyTemplate writes a new strategy module, its test and a pipeline that runs it:
 * the files `tradepipe new strategy NAME` creates. The template is a working strategy (a
 * Bollinger %B mean reversion) with a test that replays quotes through it, so a quant starts from
 * green and changes it step by step.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TradepipeError } from "../core/errors.ts";

/** REPO_ROOT is the repository root the template's imports are relative to. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const STRATEGY_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export interface TemplateFiles {
  strategy: string;
  test: string;
  pipeline: string;
  /** The module path as the spec writes it (relative to the repository root when inside it). */
  module: string;
}

/** importPath is the relative import of a repository file from `dir`, with ./ when needed. */
function importPath(dir: string, repoFile: string): string {
  const p = relative(dir, join(REPO_ROOT, repoFile)).split("\\").join("/");
  return p.startsWith(".") ? p : `./${p}`;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function writeStrategyTemplate(name: string, dirArg: string): TemplateFiles {
  if (!STRATEGY_NAME.test(name)) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `strategy name "${name}" must start with a letter and hold only lower-case letters, digits and '-' (at most 40)`,
    );
  }
  const dir = resolve(dirArg);
  const files = {
    strategy: join(dir, `${name}.ts`),
    test: join(dir, `${name}.test.ts`),
    pipeline: join(dir, `${name}.pipeline.yaml`),
  };
  for (const f of Object.values(files)) {
    if (existsSync(f)) throw new TradepipeError("TP_ERR_CONFIG", `${f} exists: not overwritten`);
  }
  const inRepo = relative(REPO_ROOT, files.strategy);
  const module = inRepo.startsWith("..") || isAbsolute(inRepo) ? files.strategy : inRepo;
  const api = importPath(dir, "services/signal-bridge/strategy/api.ts");
  const replay = importPath(dir, "services/signal-bridge/strategy/replay.ts");
  const slot = importPath(dir, "services/signal-bridge/strategy/slot.ts");
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.strategy, strategySource(name, api));
  writeFileSync(files.test, testSource(name, replay, slot));
  writeFileSync(files.pipeline, pipelineSource(name, module));
  return { ...files, module };
}

function strategySource(name: string, api: string): string {
  return `/**
 * ${name}: a Bollinger %B mean reversion (the template \`tradepipe new strategy\` writes): BUY
 * when the mid falls below the lower band, SELL when it rises above the upper band, once per
 * excursion. Change it freely; keep it pure (no clock, I/O or randomness: the lint refuses them).
 */
import { act, defineStrategy, feature, hold, Type } from "${api}";

export const Params = Type.Object(
  {
    period: Type.Integer({ description: "Bollinger period, in price changes.", default: 20, minimum: 2 }),
    stdDev: Type.Number({ description: "Band width in standard deviations.", default: 2, exclusiveMinimum: 0 }),
    strength: Type.Number({ description: "Strength of a decision (0..1).", default: 0.6, minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);

export default defineStrategy({
  name: "${name}",
  description: "Bollinger %B mean reversion.",
  params: Params,
  features: (p) => ({ pctB: feature("bollinger_pct_b", { period: p.period, stdDev: p.stdDev }) }),
  create(p) {
    /** zone is where the mid was on the last price change: −1 below, 1 above the bands, else 0. */
    let zone = 0;
    return {
      onTick(tick, f, out) {
        if (Number.isNaN(f.pctB)) {
          hold(out, "warming-up");
          return false;
        }
        if (!tick.priceChanged) {
          hold(out, "no-change");
          return false;
        }
        const now = f.pctB < 0 ? -1 : f.pctB > 1 ? 1 : 0;
        const entered = now !== 0 && now !== zone;
        zone = now;
        if (!entered) hold(out, "inside-bands");
        else if (now < 0) act(out, 1, p.strength, "below-lower-band");
        else act(out, -1, p.strength, "above-upper-band");
        return false;
      },
      indicators: () => ({ zone }),
    };
  },
});
`;
}

function testSource(name: string, replay: string, slot: string): string {
  const id = camel(name);
  return `import assert from "node:assert/strict";
import { it } from "node:test";
import { replayStrategies } from "${replay}";
import { prepareSlot } from "${slot}";
import ${id} from "./${name}.ts";

const T0 = 1_767_000_000_000_000_000n;
const quotes = (mids: number[]) =>
  mids.map((mid, i) => ({
    symbol: "AAPL",
    timeNs: T0 + BigInt(i) * 1_000_000n,
    bidPrice: mid - 0.01,
    bidSize: 100,
    askPrice: mid + 0.01,
    askSize: 100,
  }));
const replay = (mids: number[], params = {}) =>
  replayStrategies([prepareSlot(${id}, { id: "${name}", params })], { minConfidence: 0, defaultQty: 10 }, quotes(mids));

it("buys a drop below the lower band, once", () => {
  const calm = Array.from({ length: 30 }, (_, i) => 100 + (i % 2 ? 0.1 : -0.1));
  const r = replay([...calm, 98, 97.5, 97]);
  assert.deepEqual(r.signals.map((s) => [s.timeNs - T0, s.direction, s.votes[0]!.reason]), [
    [30_000_000n, 1, "below-lower-band"],
  ]);
});

it("sells a jump above the upper band", () => {
  const calm = Array.from({ length: 30 }, (_, i) => 100 + (i % 2 ? 0.1 : -0.1));
  assert.equal(replay([...calm, 102]).signals[0]?.direction, -1);
});

it("the same quotes give the same decisions", () => {
  const mids = Array.from({ length: 500 }, (_, i) => 100 + Math.sin(i / 7) * 2 + Math.sin(i / 3));
  assert.deepEqual(replay(mids), replay(mids));
});

it("refuses a bad parameter, naming it", () => {
  assert.throws(() => replay([], { period: 1 }), /params\\.period/);
});
`;
}

function pipelineSource(name: string, module: string): string {
  return `# A pipeline that runs ${name} beside the built-in strategy.
#   npx tradepipe run -f <this file> --duration 120
apiVersion: tradepipe.io/v1alpha1
kind: TradingPipeline
metadata:
  name: ${name.slice(0, 30).replace(/-+$/, "")}
spec:
  symbols: [AAPL, MSFT]
  strategies:
    - id: rules-model
      module: builtin:rules-model
    - id: ${name}
      module: ${module}
      params: { period: 20, stdDev: 2 }
      weight: 1
`;
}
