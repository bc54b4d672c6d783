/**
 * Indicator checks against references written independently of the incremental code: closed-form
 * weighted sums and two-pass statistics over the full history, plus values worked out by hand.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Bollinger } from "./bollinger.ts";
import { Ema } from "./ema.ts";
import { Macd } from "./macd.ts";
import { Rsi } from "./rsi.ts";

function randomWalk(n: number, seed: number, start = 100, vol = 0.5): number[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const out: number[] = [];
  let p = start;
  for (let i = 0; i < n; i++) {
    p = Math.max(1, p + (rand() - 0.5) * 2 * vol);
    out.push(Math.round(p * 100) / 100);
  }
  return out;
}

/** smoothedClosedForm: s_t = (1-a)^(t-t0)·seed + Σ_{j=t0+1..t} a·(1-a)^(t-j)·x_j, summed directly. */
function smoothedClosedForm(xs: number[], t0: number, seed: number, a: number, t: number): number {
  let v = (1 - a) ** (t - t0) * seed;
  for (let j = t0 + 1; j <= t; j++) v += a * (1 - a) ** (t - j) * xs[j]!;
  return v;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** RSI at each index from scratch: Wilder smoothing is an EMA with a = 1/n seeded with a mean. */
function referenceRsi(prices: number[], n: number): number[] {
  const gains = prices.slice(1).map((p, i) => Math.max(p - prices[i]!, 0));
  const losses = prices.slice(1).map((p, i) => Math.max(prices[i]! - p, 0));
  return prices.map((_, t) => {
    const c = t - 1; // index of the last change
    if (c < n - 1) return Number.NaN;
    const g = smoothedClosedForm(gains, n - 1, mean(gains.slice(0, n)), 1 / n, c);
    const l = smoothedClosedForm(losses, n - 1, mean(losses.slice(0, n)), 1 / n, c);
    if (l === 0) return g === 0 ? 50 : 100;
    return 100 - 100 / (1 + g / l);
  });
}

function referenceEma(xs: number[], n: number): number[] {
  return xs.map((_, t) =>
    t < n - 1 ? Number.NaN : smoothedClosedForm(xs, n - 1, mean(xs.slice(0, n)), 2 / (n + 1), t),
  );
}

function close(actual: number, expected: number, tol: number, what: string): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

describe("Rsi (Wilder)", () => {
  it("matches a from-scratch reference over a random walk", () => {
    const prices = randomWalk(400, 1);
    const ref = referenceRsi(prices, 14);
    const rsi = new Rsi(14);
    prices.forEach((p, t) => {
      rsi.update(p);
      close(rsi.value, ref[t]!, 1e-9, `rsi[${t}]`);
      assert.equal(rsi.ready, t >= 14);
    });
  });

  it("hand-worked: 14 rises of 1 then a fall of 1 gives 100 - 100/14", () => {
    const rsi = new Rsi(14);
    for (let i = 0; i <= 14; i++) rsi.update(100 + i);
    assert.equal(rsi.value, 100);
    rsi.update(113);
    // avgGain = 13/14, avgLoss = 1/14, RS = 13
    close(rsi.value, 100 - 100 / 14, 1e-12, "rsi");
    close(rsi.value, 92.85714285714286, 1e-12, "rsi");
  });

  it("is 50 for a flat series and 0 for a falling one", () => {
    const flat = new Rsi(5);
    const down = new Rsi(5);
    for (let i = 0; i < 10; i++) {
      flat.update(7);
      down.update(50 - i);
    }
    assert.equal(flat.value, 50);
    assert.equal(down.value, 0);
  });
});

describe("Ema and Macd", () => {
  it("Ema hand-worked: period 3 over 1,2,3,4,10 → seed 2, then 3, then 6.5", () => {
    const e = new Ema(3);
    const seen: number[] = [];
    for (const x of [1, 2, 3, 4, 10]) {
      e.update(x);
      seen.push(e.value);
    }
    assert.deepEqual(seen, [Number.NaN, Number.NaN, 2, 3, 6.5]);
  });

  it("Macd(12,26,9) matches closed-form EMAs over a random walk", () => {
    const prices = randomWalk(300, 2);
    const fast = referenceEma(prices, 12);
    const slow = referenceEma(prices, 26);
    const lineFrom = 25;
    const lines = prices.slice(lineFrom).map((_, i) => fast[i + lineFrom]! - slow[i + lineFrom]!);
    const signal = referenceEma(lines, 9);
    const macd = new Macd(12, 26, 9);
    prices.forEach((p, t) => {
      macd.update(p);
      if (t < lineFrom + 8) {
        assert.ok(Number.isNaN(macd.histogram), `hist[${t}] not ready`);
        return;
      }
      const s = signal[t - lineFrom]!;
      close(macd.line, lines[t - lineFrom]!, 1e-9, `line[${t}]`);
      close(macd.signal, s, 1e-9, `signal[${t}]`);
      close(macd.histogram, lines[t - lineFrom]! - s, 1e-9, `hist[${t}]`);
    });
    assert.equal(macd.ready, true);
  });

  it("Macd of a constant price is zero", () => {
    const macd = new Macd(12, 26, 9);
    for (let i = 0; i < 60; i++) macd.update(42.5);
    assert.equal(macd.line, 0);
    assert.equal(macd.histogram, 0);
  });
});

describe("Bollinger (population σ)", () => {
  it("hand-worked: prices 1..20 give mean 10.5 and σ = sqrt(33.25)", () => {
    const b = new Bollinger(20, 2);
    for (let i = 1; i <= 20; i++) b.update(i);
    // Population variance of 1..n is (n² − 1) / 12 = 399 / 12 = 33.25.
    close(b.middle, 10.5, 1e-12, "middle");
    close(b.stdDev, Math.sqrt(33.25), 1e-12, "σ");
    close(b.upper, 10.5 + 2 * Math.sqrt(33.25), 1e-12, "upper");
    close(b.percentB, (20 - b.lower) / (b.upper - b.lower), 1e-12, "%B");
  });

  it("matches a two-pass window over a random walk", () => {
    const prices = randomWalk(3000, 3);
    const b = new Bollinger(20, 2);
    prices.forEach((p, t) => {
      b.update(p);
      if (t < 19) {
        assert.equal(b.ready, false);
        return;
      }
      const w = prices.slice(t - 19, t + 1);
      const m = mean(w);
      const sd = Math.sqrt(w.reduce((s, x) => s + (x - m) ** 2, 0) / 20);
      close(b.middle, m, 1e-9, `middle[${t}]`);
      close(b.upper, m + 2 * sd, 1e-7, `upper[${t}]`);
      close(b.lower, m - 2 * sd, 1e-7, `lower[${t}]`);
    });
  });

  it("stays accurate over a million updates far from zero", () => {
    const b = new Bollinger(20, 2);
    const prices = randomWalk(1_000_000, 4, 100_000, 0.05);
    for (const p of prices) b.update(p);
    const w = prices.slice(-20);
    const m = mean(w);
    const sd = Math.sqrt(w.reduce((s, x) => s + (x - m) ** 2, 0) / 20);
    close(b.stdDev, sd, 1e-6, "σ after 1e6 updates");
  });

  it("a flat window has zero width and %B 0.5", () => {
    const b = new Bollinger(5, 2);
    for (let i = 0; i < 5; i++) b.update(3);
    assert.equal(b.upper, 3);
    assert.equal(b.percentB, 0.5);
  });
});
