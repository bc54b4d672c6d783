/**
 * Runs one seeded synthetic backtest and prints the SHA-256 of all its outputs: the determinism
 * test starts this in two separate processes and compares the hashes.
 * Usage: node determinism-child.ts <seed> <minutes>
 */
import { resultText, sha256 } from "./digest.ts";
import { runBacktest } from "./engine.ts";
import { asAsync, syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const seed = Number(process.argv[2] ?? 1);
const minutes = BigInt(process.argv[3] ?? 10);
const symbols = { AAPL: 190, MSFT: 410 };
const cfg = await testConfig(Object.keys(symbols), seed);
cfg.latency = { ...cfg.latency, jitterNs: 5_000_000n };
const result = await runBacktest(
  asAsync(syntheticBatches({ symbols, seed, startNs: T0, durationNs: minutes * 60_000_000_000n })),
  cfg,
);
process.stdout.write(`${sha256(resultText(result))} ${result.intents.length}\n`);
