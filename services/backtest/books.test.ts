/**
 * L2 books in a backtest: with the `queue` fill model, book rows from the data set what is ahead
 * of a resting limit (at any level, not only the touch), so the same strategy on the same quotes
 * and trades fills differently, and deterministically, once the books are there.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelSetupOf } from "../kernel/config.ts";
import { resultText } from "./digest.ts";
import { BacktestEngine } from "./engine.ts";
import { syntheticBatches } from "./synthetic.ts";
import { T0, testConfig, testPipeline } from "./test-support.ts";

const symbols = { AAPL: 190, MSFT: 410 };

async function run(books: boolean) {
  const pipeline = testPipeline(Object.keys(symbols));
  pipeline.spec.strategies = [
    {
      id: "passive",
      module: "services/kernel/testdata/sized-limit-strategy.ts",
      // Limits 2 cents inside the mid on the passive side: they rest in the book.
      params: { every: 15, qty: 30, offset: -0.02 },
      weight: 1,
      role: "vote",
      budgetShares: 0,
    },
  ];
  const cfg = await testConfig(Object.keys(symbols));
  const setup = await kernelSetupOf(pipeline, new Map());
  const engine = new BacktestEngine({
    ...cfg,
    kernel: setup.config,
    score: setup.score,
    fills: { restingLimits: "queue" },
  });
  for (const b of syntheticBatches({
    symbols,
    seed: 9,
    startNs: T0,
    durationNs: 900_000_000_000n,
    books,
  }))
    engine.push(b);
  return engine.finish();
}

test("the queue model reads L2 book rows: resting orders wait behind the book's size, deterministically", async () => {
  const plain = await run(false);
  const withBooks = await run(true);
  assert.ok(plain.intents.length > 10, `orders: ${plain.intents.length}`);
  assert.equal(
    withBooks.intents.length > 0 && withBooks.events > plain.events,
    true,
    "book rows are events of the run",
  );
  // Behind the book's size, some resting orders fill later (or not at all).
  const firstFill = (r: typeof plain) => {
    const at = new Map<string, bigint>();
    for (const f of r.fills) if (!at.has(f.clientOrderId)) at.set(f.clientOrderId, f.exchangeNs);
    return at;
  };
  const a = firstFill(plain);
  const b = firstFill(withBooks);
  let later = 0;
  for (const [id, t] of a) {
    const u = b.get(id);
    if (u === undefined || u > t) later++;
  }
  assert.ok(later > 0, "some orders fill later (or not at all) behind the book's size");
  assert.equal(resultText(await run(true)), resultText(withBooks), "deterministic");
});
