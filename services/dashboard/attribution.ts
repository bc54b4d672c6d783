/**
 * attribution: P&L split by symbol, side, sector and day into realized, unrealized and fees,
 * replayed from the fills at average cost (the way the position tracker keeps positions), so
 * every bucket of every dimension is a share of one total.
 *
 * Amounts are Fixed (9 decimals) until the end; cents are then allocated by largest remainder
 * so the shown parts of a dimension add up to the shown total to the cent. Rounding each part
 * on its own does not: three parts of 0.004 each round to 0.00 while their sum rounds to 0.01.
 */
import { type Fixed, fromDecimal, mul, SCALE, ZERO } from "../core/money.ts";

export interface AttributionFill {
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
  commission: string;
  /** ISO instant of the fill. */
  filledAt: string;
}

export interface AttributionInput {
  fills: AttributionFill[];
  /** Last price per symbol, for the unrealized part of open positions. */
  marks: Record<string, string>;
  /** Sector per symbol; missing ones go to "unknown". */
  sectors: Record<string, string>;
  /** The day (YYYY-MM-DD) unrealized P&L is booked on: the day of the view. */
  asOfDay: string;
}

/** Cents of one bucket; total = realized + unrealized - fees, to the cent. */
export interface Bucket {
  key: string;
  realized: bigint;
  unrealized: bigint;
  fees: bigint;
  total: bigint;
}

export interface Attribution {
  total: Omit<Bucket, "key">;
  bySymbol: Bucket[];
  bySide: Bucket[];
  bySector: Bucket[];
  byDay: Bucket[];
}

type Part = "realized" | "unrealized" | "fees";
interface Contribution {
  symbol: string;
  /** The side of the position the amount belongs to: long or short. */
  side: "long" | "short";
  day: string;
  part: Part;
  amount: Fixed;
}

/** contributions replays fills at average cost: every realized, unrealized and fee amount. */
function contributions(input: AttributionInput): Contribution[] {
  const out: Contribution[] = [];
  const book = new Map<string, { qty: Fixed; avg: Fixed }>();
  const ordered = [...input.fills].sort((a, b) => a.filledAt.localeCompare(b.filledAt));
  for (const f of ordered) {
    const day = f.filledAt.slice(0, 10);
    const qty = fromDecimal(f.qty);
    const price = fromDecimal(f.price);
    const signed = f.side === "buy" ? qty : -qty;
    const pos = book.get(f.symbol) ?? { qty: ZERO, avg: ZERO };
    const fee = fromDecimal(f.commission);
    const side: "long" | "short" =
      pos.qty > 0n || (pos.qty === 0n && signed > 0n) ? "long" : "short";
    if (fee !== 0n) out.push({ symbol: f.symbol, side, day, part: "fees", amount: fee });
    if (pos.qty === 0n || pos.qty > 0n === signed > 0n) {
      // Opening or adding: the average cost moves, nothing is realized.
      const newQty = pos.qty + signed;
      const cost = mul(pos.avg, abs(pos.qty)) + mul(price, qty);
      book.set(f.symbol, { qty: newQty, avg: (cost * SCALE) / abs(newQty) });
      continue;
    }
    const closing = min(qty, abs(pos.qty));
    const perShare = pos.qty > 0n ? price - pos.avg : pos.avg - price;
    out.push({ symbol: f.symbol, side, day, part: "realized", amount: mul(perShare, closing) });
    const left = qty - closing;
    const newQty = pos.qty + signed;
    // A fill that crosses zero opens the other side at its own price.
    book.set(f.symbol, { qty: newQty, avg: left > 0n ? price : newQty === 0n ? ZERO : pos.avg });
  }
  for (const [symbol, pos] of book) {
    if (pos.qty === 0n) continue;
    const mark = input.marks[symbol];
    if (mark === undefined) continue;
    const amount = mul(fromDecimal(mark) - pos.avg, pos.qty);
    const side = pos.qty > 0n ? "long" : "short";
    out.push({ symbol, side, day: input.asOfDay, part: "unrealized", amount });
  }
  return out;
}

const abs = (v: bigint) => (v < 0n ? -v : v);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Fixed → cents rounded half away from zero. */
export function toCents(v: Fixed): bigint {
  const unit = SCALE / 100n;
  const q = abs(v) / unit;
  const r = abs(v) % unit;
  const rounded = r * 2n >= unit ? q + 1n : q;
  return v < 0n ? -rounded : rounded;
}

/**
 * allocateCents rounds each amount to cents so that they sum to the rounded sum: each part
 * gets its floor, and the cents left over go to the parts with the largest remainders.
 */
export function allocateCents(amounts: Fixed[]): bigint[] {
  const unit = SCALE / 100n;
  const target = toCents(amounts.reduce((s, a) => s + a, 0n));
  const floors = amounts.map((a) => (a >= 0n ? a / unit : -((-a + unit - 1n) / unit)));
  const remainders = amounts.map((a, i) => a - floors[i]! * unit);
  let left = target - floors.reduce((s, f) => s + f, 0n);
  const order = amounts.map((_, i) => i).sort((a, b) => Number(remainders[b]! - remainders[a]!));
  const out = [...floors];
  // left is between 0 and the number of parts, since every remainder is in [0, 1 cent).
  for (let k = 0; left > 0n && k < order.length; k += 1, left -= 1n) out[order[k]!]! += 1n;
  return out;
}

function group(
  items: Contribution[],
  keyOf: (c: Contribution) => string,
  totals: Record<Part, bigint>,
): Bucket[] {
  const sums = new Map<string, Record<Part, Fixed>>();
  for (const c of items) {
    const key = keyOf(c);
    const s = sums.get(key) ?? { realized: ZERO, unrealized: ZERO, fees: ZERO };
    s[c.part] += c.amount;
    sums.set(key, s);
  }
  const keys = [...sums.keys()].sort();
  const cents = {} as Record<Part, bigint[]>;
  for (const part of ["realized", "unrealized", "fees"] as const) {
    cents[part] = allocateCents(keys.map((k) => sums.get(k)![part]));
    // allocateCents keeps the part total; the check makes a broken allocation loud.
    const sum = cents[part].reduce((s, v) => s + v, 0n);
    if (sum !== totals[part]) throw new Error(`attribution: ${part} parts do not sum to the total`);
  }
  return keys.map((key, i) => {
    const realized = cents.realized[i]!;
    const unrealized = cents.unrealized[i]!;
    const fees = cents.fees[i]!;
    return { key, realized, unrealized, fees, total: realized + unrealized - fees };
  });
}

/** attribute computes the P&L total and its split along each dimension, in cents. */
export function attribute(input: AttributionInput): Attribution {
  const items = contributions(input);
  const sum = (part: Part) =>
    toCents(items.filter((c) => c.part === part).reduce((s, c) => s + c.amount, 0n));
  const totals = { realized: sum("realized"), unrealized: sum("unrealized"), fees: sum("fees") };
  return {
    total: { ...totals, total: totals.realized + totals.unrealized - totals.fees },
    bySymbol: group(items, (c) => c.symbol, totals),
    bySide: group(items, (c) => c.side, totals),
    bySector: group(items, (c) => input.sectors[c.symbol] ?? "unknown", totals),
    byDay: group(items, (c) => c.day, totals),
  };
}

/** centsText formats cents as a dollar amount with two decimals (-12.05). */
export function centsText(cents: bigint): string {
  const sign = cents < 0n ? "-" : "";
  const a = abs(cents);
  return `${sign}${a / 100n}.${(a % 100n).toString().padStart(2, "0")}`;
}
