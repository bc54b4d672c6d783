/**
 * Bollinger's window arithmetic where sliding sums go wrong: bandwidth, nothing before a full
 * window, a flat window rounded below zero, a huge price leaving the window, a window longer than
 * the re-sum interval. References are two-pass statistics over the window.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "../../core/random.ts";
import { Bollinger } from "./bollinger.ts";

/** prices: a seeded walk of cent prices around 100. */
function prices(n: number, seed: number): number[] {
  const next = mulberry32(seed);
  const out: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) {
    p = Math.max(1, p + (next() - 0.5));
    out.push(Math.round(p * 100) / 100);
  }
  return out;
}

/** twoPass: the window's mean and population σ, summed directly. */
function twoPass(window: number[]): { mean: number; sd: number } {
  const mean = window.reduce((s, x) => s + x, 0) / window.length;
  const sd = Math.sqrt(window.reduce((s, x) => s + (x - mean) ** 2, 0) / window.length);
  return { mean, sd };
}

const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9, `${what}: ${actual} vs ${expected}`);

describe("Bollinger window arithmetic", () => {
  it("bandwidth is the band's width over the middle (hand-worked: 1..20)", () => {
    const b = new Bollinger(20, 2);
    for (let i = 1; i <= 20; i++) b.update(i);
    near(b.bandwidth, (4 * Math.sqrt(33.25)) / 10.5, "bandwidth");
  });

  it("publishes no band before its window is full", () => {
    const b = new Bollinger(5, 2);
    for (let i = 1; i <= 4; i++) {
      b.update(i);
      assert.ok(Number.isNaN(b.middle) && Number.isNaN(b.upper) && Number.isNaN(b.percentB));
    }
    b.update(5);
    near(b.middle, 3, "middle of 1..5");
  });

  it("a window that goes flat after varied prices has zero width, never NaN from rounding", () => {
    // Sliding the squared deviations out of this window rounds them to slightly below zero.
    const b = new Bollinger(5, 2);
    for (const p of [23.65, 36.93, 50.42, 70.49, 5.05]) b.update(p);
    for (let i = 0; i < 5; i++) b.update(36.95);
    assert.equal(b.upper, b.lower);
    assert.equal(b.percentB, 0.5);
    assert.equal(b.bandwidth, 0);
  });

  it("a huge price that left the window leaves no lasting error (the window is re-summed)", () => {
    // Sliding a 1e12 out of the sums cancels catastrophically; only re-summing the window exactly
    // removes the error, within RECOMPUTE_EVERY updates.
    const b = new Bollinger(10, 2);
    const all = [1e12, ...prices(3000, 7)];
    for (const p of all) b.update(p);
    const { mean, sd } = twoPass(all.slice(-10));
    near(b.middle, mean, "middle");
    near(b.stdDev, sd, "σ");
  });

  it("a window longer than the re-sum interval is exact from its first full window", () => {
    const all = prices(1500, 8);
    const b = new Bollinger(1500, 2);
    for (const p of all) b.update(p);
    const { mean, sd } = twoPass(all);
    near(b.middle, mean, "middle");
    near(b.stdDev, sd, "σ");
  });
});
