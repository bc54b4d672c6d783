/**
 * drawdown tracks the equity peak and raises an alert once per crossing: when drawdown
 * (peak − equity) / peak reaches the alert level (5% alerts at exactly 5%), and not again until
 * it has fallen below the re-arm level (hysteresis: by default one point lower, 4%), so equity
 * hovering around the level does not flood the risk-manager with alerts. A new peak re-arms too.
 */
import { TradepipeError } from "../../core/errors.ts";
import { div, type Fixed, fromDecimal, mul, ZERO } from "../../core/money.ts";

export interface DrawdownState {
  peak: Fixed | null;
  alerted: boolean;
  alertFraction: Fixed;
  rearmFraction: Fixed;
  /** alertEquity/rearmEquity: equity thresholds for the current peak, computed once per peak. */
  alertEquity: Fixed;
  rearmEquity: Fixed;
}

export function createDrawdown(alertPct: number, rearmPct?: number): DrawdownState {
  if (!(alertPct > 0 && alertPct <= 100))
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `positions.drawdownAlertPct: must be in (0, 100], got ${alertPct}`,
    );
  const rearm = rearmPct ?? (alertPct > 1 ? alertPct - 1 : alertPct / 2);
  if (!(rearm >= 0 && rearm < alertPct)) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `positions.drawdownRearmPct: must be in [0, drawdownAlertPct), got ${rearm}`,
    );
  }
  return {
    peak: null,
    alerted: false,
    alertFraction: fromDecimal((alertPct / 100).toFixed(9)),
    rearmFraction: fromDecimal((rearm / 100).toFixed(9)),
    alertEquity: ZERO,
    rearmEquity: ZERO,
  };
}

export function setPeak(dd: DrawdownState, peak: Fixed): void {
  dd.peak = peak;
  dd.alertEquity = peak - mul(peak, dd.alertFraction);
  dd.rearmEquity = peak - mul(peak, dd.rearmFraction);
}

/** observeEquity updates the peak and says whether an alert or a recovery is due. */
export function observeEquity(dd: DrawdownState, equity: Fixed): "alert" | "recovered" | null {
  if (dd.peak === null || equity > dd.peak) setPeak(dd, equity);
  if (dd.peak! <= ZERO) return null;
  if (!dd.alerted) {
    if (equity <= dd.alertEquity) {
      dd.alerted = true;
      return "alert";
    }
  } else if (equity > dd.rearmEquity) {
    dd.alerted = false;
    return "recovered";
  }
  return null;
}

/** drawdownOf is the current drawdown fraction for a given equity (0 without a positive peak). */
export function drawdownOf(dd: DrawdownState, equity: Fixed | null): Fixed {
  if (equity === null || dd.peak === null || dd.peak <= ZERO || equity >= dd.peak) return ZERO;
  return div(dd.peak - equity, dd.peak);
}
