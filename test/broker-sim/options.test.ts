/**
 * startSimulator refuses bad options with TP_ERR_CONFIG and a message naming the option.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type SimulatorOptions, startSimulator } from "../../services/broker-sim/index.ts";

const cases: [SimulatorOptions, RegExp][] = [
  [{ seed: 1.5 }, /seed must be an integer, got 1.5/],
  [{ port: 70000 }, /port must be 0..65535, got 70000/],
  [{ speed: 0 }, /speed must be a positive number, got 0/],
  [{ partialFillProbability: 2 }, /partialFillProbability must be in \[0, 1\], got 2/],
  [{ market: { depthLevels: 2.5 } }, /market.depthLevels must be a positive integer, got 2.5/],
  [{ symbols: { AAPL: -1 } }, /symbols.AAPL must be a positive number, got -1/],
  [{ symbols: ["not a symbol"] }, /symbols: "NOT A SYMBOL" is not a stock symbol/],
  [{ faults: { dropRate: 3 } as never }, /faults.dropRate: expected a probability in \[0, 1\]/],
  [{ startingCash: "lots" }, /startingCash must be a non-negative decimal string, got "lots"/],
  [{ startTime: "yesterday" }, /startTime is not RFC-3339: yesterday/],
  [{ replayFile: "/nonexistent/rec.ndjson" }, /replayFile \/nonexistent\/rec.ndjson: ENOENT/],
];

for (const [options, message] of cases) {
  test(`startSimulator(${JSON.stringify(options)}) is refused`, async () => {
    await assert.rejects(startSimulator(options), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, "TP_ERR_CONFIG");
      assert.match(e.message ?? "", message);
      return true;
    });
  });
}
