import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import {
  annualVolatility,
  cagr,
  calmar,
  drawdownOf,
  type RoundTrip,
  returnsOf,
  sharpe,
  sortino,
  tradeStats,
  winRateByPeriod,
} from "./metrics.ts";

interface Case {
  returns: number[];
  risk_free_annual: number;
  cagr: number;
  volatility: number;
  sharpe_rf0: number;
  sharpe_rf: number;
  sortino_rf0: number;
  sortino_rf: number;
  max_drawdown: number;
  calmar: number;
  total_return: number;
  win_rate_by_period_quantstats: number;
}

const reference = JSON.parse(
  readFileSync(new URL("./fixtures/empyrical-reference.json", import.meta.url), "utf8"),
) as { producedBy: string; cases: Record<string, Case> };

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );

describe("performance figures", () => {
  for (const [name, c] of Object.entries(reference.cases)) {
    it(`match ${reference.producedBy} on the '${name}' returns`, () => {
      const r = c.returns;
      close(cagr(r), c.cagr, "CAGR");
      close(annualVolatility(r), c.volatility, "volatility");
      close(sharpe(r, 0), c.sharpe_rf0, "Sharpe rf 0");
      close(sharpe(r, c.risk_free_annual), c.sharpe_rf, "Sharpe rf");
      close(sortino(r, 0), c.sortino_rf0, "Sortino rf 0");
      close(sortino(r, c.risk_free_annual), c.sortino_rf, "Sortino rf");
      close(drawdownOf(r).maxDrawdown, c.max_drawdown, "max drawdown");
      close(calmar(r), c.calmar, "Calmar");
      close(winRateByPeriod(r), c.win_rate_by_period_quantstats, "win rate by period");
      const equity = [1];
      for (const x of r) equity.push(equity.at(-1)! * (1 + x));
      close(equity.at(-1)! - 1, c.total_return, "total return");
    });
  }

  it("hand-worked: +10%, −5%, +2%", () => {
    const r = [0.1, -0.05, 0.02];
    close(cagr(r), (1.1 * 0.95 * 1.02) ** (252 / 3) - 1, "CAGR");
    // mean 0.07/3; squared deviations from it sum to 0.0112666…; sample variance = that / 2.
    const m = 0.07 / 3;
    const sd = Math.sqrt(((0.1 - m) ** 2 + (-0.05 - m) ** 2 + (0.02 - m) ** 2) / 2);
    close(sharpe(r), (m / sd) * Math.sqrt(252), "Sharpe");
    close(annualVolatility(r), sd * Math.sqrt(252), "volatility");
    // Only −5% is below zero: downside deviation √(0.0025 / 3) per day.
    close(sortino(r), (m * 252) / (Math.sqrt(0.0025 / 3) * Math.sqrt(252)), "Sortino");
    const dd = drawdownOf(r);
    close(dd.maxDrawdown, -0.05, "max drawdown");
    assert.equal(dd.durationPeriods, 2, "below the 1.10 peak on days 2 and 3");
    close(winRateByPeriod([0.1, 0, -0.05, 0.02]), 2 / 3, "flat days do not count");
    close(returnsOf([100, 110, 104.5])[1]!, -0.05, "returns from values");
  });

  it("trade figures: win rate, profit factor and expectancy over round trips", () => {
    const trip = (pnl: string): RoundTrip => ({
      symbol: "AAPL",
      direction: "long",
      openNs: 0n,
      closeNs: 1n,
      maxQty: fromDecimal(10),
      pnl: fromDecimal(pnl),
      fees: 0n,
    });
    const s = tradeStats([trip("30"), trip("-10"), trip("20"), trip("-20")]);
    assert.equal(s.count, 4);
    close(s.winRate, 0.5, "win rate");
    close(s.profitFactor, 50 / 30, "profit factor");
    close(s.expectancy, 5, "expectancy");
  });
});
