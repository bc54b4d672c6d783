/**
 * Test and benchmark helpers: the default spec's kernel configuration (the built-in rules + model
 * strategy and its ONNX model) and a standard engine configuration over the synthetic market.
 */

import { feeSchedule } from "../core/fees.ts";
import { fromDecimal } from "../core/money.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import { defaultSpec } from "../core/spec/index.ts";
import { kernelSetupOf } from "../kernel/config.ts";
import type { BacktestConfig } from "./engine.ts";
import { DEFAULT_LATENCY } from "./latency.ts";

export const T0 = 1_772_460_000_000_000_000n; // 2026-03-02T14:00:00Z (09:00 New York)

/** testPipeline: the default spec trading `symbols`, named "bt". */
export function testPipeline(symbols: readonly string[]): TradingPipeline {
  return {
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "bt" },
    spec: { ...defaultSpec(), symbols: [...symbols] },
  } as TradingPipeline;
}

export async function testConfig(symbols: readonly string[], seed = 7): Promise<BacktestConfig> {
  const { config, score } = await kernelSetupOf(testPipeline(symbols), new Map());
  return {
    kernel: config,
    score,
    symbols,
    startingCash: fromDecimal("100000"),
    seed,
    latency: DEFAULT_LATENCY,
    fills: { restingLimits: "conservative" },
    fees: feeSchedule(),
  };
}
