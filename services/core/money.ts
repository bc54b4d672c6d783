/**
 * Exact decimal arithmetic for prices, quantities, cash and P&L.
 *
 * A `Fixed` is a bigint holding the value scaled by 10^9 (nine decimal places: Alpaca quotes
 * prices to 4 places and fractional quantities to 9). Products are computed at 10^18 and
 * rescaled with round-half-even, so no value ever passes through a float.
 *
 * IMPORTANT: never convert a Fixed to `number` for arithmetic; use `toNumber` only for
 * indicators, model features and metrics, where floating point is allowed.
 */
import { TradepipeError } from "./errors.ts";

export type Fixed = bigint;

export const SCALE_DIGITS = 9;
export const SCALE = 1_000_000_000n;
export const ZERO: Fixed = 0n;
export const ONE: Fixed = SCALE;

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** fromDecimal parses "123.45", "-0.5", "7" (or a safe integer / finite number) into a Fixed. */
export function fromDecimal(value: string | number | bigint): Fixed {
  if (typeof value === "bigint") return value * SCALE;
  const text = typeof value === "number" ? numberToPlainString(value) : value.trim();
  const m = DECIMAL_RE.exec(text);
  if (!m) {
    throw new TradepipeError(
      "TP_ERR_INVALID_DECIMAL",
      `not a decimal number: ${JSON.stringify(value)}`,
    );
  }
  const [, sign, intPart, fracRaw = ""] = m;
  if (fracRaw.length > SCALE_DIGITS && /[1-9]/.test(fracRaw.slice(SCALE_DIGITS))) {
    throw new TradepipeError(
      "TP_ERR_INVALID_DECIMAL",
      `more than ${SCALE_DIGITS} decimal places: ${JSON.stringify(value)}`,
    );
  }
  const frac = fracRaw.slice(0, SCALE_DIGITS).padEnd(SCALE_DIGITS, "0");
  const abs = BigInt(intPart!) * SCALE + BigInt(frac);
  return sign === "-" ? -abs : abs;
}

function numberToPlainString(n: number): string {
  if (!Number.isFinite(n)) {
    throw new TradepipeError("TP_ERR_INVALID_DECIMAL", `not a finite number: ${n}`);
  }
  // toFixed avoids exponent notation; 9 places then trailing zeros trimmed by the parser.
  return n.toFixed(SCALE_DIGITS);
}

/** toDecimal formats a Fixed as a plain decimal string with at least `minFraction` places. */
export function toDecimal(v: Fixed, minFraction = 0): string {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const int = abs / SCALE;
  const rest = abs - int * SCALE;
  // Whole numbers (share quantities, round prices) are the common case: no fraction to trim.
  if (rest === 0n && minFraction === 0) return neg ? `-${int}` : `${int}`;
  let frac = rest.toString().padStart(SCALE_DIGITS, "0").replace(/0+$/, "");
  if (frac.length < minFraction) frac = frac.padEnd(minFraction, "0");
  return `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

/** toNumber is for indicators, features and metrics only (see IMPORTANT above). */
export function toNumber(v: Fixed): number {
  return Number(v) / 1e9;
}

/**
 * NumberMemo is toNumber remembering its last value: a quote's prices and sizes often repeat the
 * previous quote's of the symbol, and converting a bigint to a number is a runtime call.
 */
export class NumberMemo {
  private last: Fixed = 0n;
  private value = 0;

  of(v: Fixed): number {
    if (v !== this.last) {
      this.last = v;
      this.value = toNumber(v);
    }
    return this.value;
  }
}

/** QuoteNumbers: one symbol's NumberMemo for bid, bid size, ask and ask size. */
export interface QuoteNumbers {
  readonly bid: NumberMemo;
  readonly bidSize: NumberMemo;
  readonly ask: NumberMemo;
  readonly askSize: NumberMemo;
}

export function quoteNumbers(): QuoteNumbers {
  return {
    bid: new NumberMemo(),
    bidSize: new NumberMemo(),
    ask: new NumberMemo(),
    askSize: new NumberMemo(),
  };
}

/** divRound divides with round-half-even (banker's rounding), as exchanges and ledgers do. */
export function divRound(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError("division by zero");
  // An exact quotient needs no rounding (whole-share quantities times prices usually are).
  const exact = n / d;
  if (exact * d === n) return exact;
  const neg = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  const r = an % ad;
  const twice = r * 2n;
  if (twice > ad || (twice === ad && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

export function mul(a: Fixed, b: Fixed): Fixed {
  return divRound(a * b, SCALE);
}

export function div(a: Fixed, b: Fixed): Fixed {
  return divRound(a * SCALE, b);
}

/**
 * Wide is a value scaled by 10^18: the exact product of two Fixed values, before any rounding.
 * Average prices are kept as a Wide notional divided by a quantity, so an average of one fill
 * is that fill's price exactly (a notional rounded to nine places first would not divide back).
 */
export type Wide = bigint;

/** mulWide is the exact product a × b at scale 10^18 (no rounding). */
export function mulWide(a: Fixed, b: Fixed): Wide {
  return a * b;
}

/** fromWide rounds a Wide to a Fixed (half-even), as `mul` would have. */
export function fromWide(w: Wide): Fixed {
  return divRound(w, SCALE);
}

/** divWide divides a Wide by a Fixed into a Fixed (half-even): a notional over a quantity. */
export function divWide(w: Wide, b: Fixed): Fixed {
  return divRound(w, b);
}

/** mulCeil is a × b rounded up (toward +∞) to nine places: a charge is never understated. */
export function mulCeil(a: Fixed, b: Fixed): Fixed {
  const p = a * b;
  const q = p / SCALE;
  return p > 0n && q * SCALE !== p ? q + 1n : q;
}

/** roundTo rounds to `places` decimal places (half-even), e.g. prices to cents. */
export function roundTo(v: Fixed, places: number): Fixed {
  const step = 10n ** BigInt(SCALE_DIGITS - places);
  return divRound(v, step) * step;
}

export function abs(v: Fixed): Fixed {
  return v < 0n ? -v : v;
}

export function min(a: Fixed, b: Fixed): Fixed {
  return a < b ? a : b;
}

export function max(a: Fixed, b: Fixed): Fixed {
  return a > b ? a : b;
}

/** bps returns |a - b| / b in basis points, as a Fixed (e.g. 50 bps → 50_000000000n). */
export function bpsDiff(a: Fixed, b: Fixed): Fixed {
  return div(abs(a - b) * 10_000n, b);
}

/**
 * formatMoney renders an amount of dollars for people: rounded half-even to the cent, always two
 * decimals (12.5 → "12.50", 3.608888888 → "3.61"). Exact values stay in the database and JSON.
 */
export function formatMoney(v: Fixed): string {
  return toDecimal(roundTo(v, 2), 2);
}

/**
 * formatPrice renders a share price at its tick (SEC Rule 612: a cent at $1.00 and above, $0.0001
 * below): 120.015333333 → "120.02", 0.123456 → "0.1235".
 */
export function formatPrice(v: Fixed): string {
  const places = abs(v) >= SCALE ? 2 : 4;
  return toDecimal(roundTo(v, places), places);
}

/** formatDecimalMoney and formatDecimalPrice take the decimal strings the stages report. */
export function formatDecimalMoney(text: string): string {
  return formatMoney(fromDecimal(text));
}

export function formatDecimalPrice(text: string): string {
  return formatPrice(fromDecimal(text));
}
