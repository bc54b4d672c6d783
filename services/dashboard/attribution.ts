/**
 * attribution: P&L split by symbol, side, sector and day into realized, unrealized and fees,
 * replayed from the fills at average cost (the way the position tracker keeps positions), so
 * every bucket of every dimension is a share of one total.
 *
 * The replay's state is carried forward (`SymbolLedger` per symbol): fills are append-only, so
 * a new fill is applied on top of what the earlier ones left, and only a symbol that received
 * a fill out of order is replayed from its first fill (`planSync`). `attribute` is the
 * reference: every fill replayed from nothing.
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

/** One fill as the ledger applies it. Fills are applied in (atUs, id) order. */
export interface LedgerFill {
  id: number;
  /** filled_at in microseconds since the epoch (Postgres' resolution). */
  atUs: bigint;
  symbol: string;
  side: "buy" | "sell";
  qty: string;
  price: string;
  commission: string;
}

/** What fills_rollup (sql/0012) holds for one symbol and side: a fingerprint of its fills. */
export interface SideTally {
  n: number;
  commission: Fixed;
  /** Latest filled_at, µs; -1 with no fill. */
  lastAtUs: bigint;
}

/**
 * SymbolLedger: the replay's state for one symbol after some of its fills, enough to apply the
 * next one without the earlier ones: the average-cost position, the realized P&L and fees
 * booked so far per (position side, day), and what fills went in (to check against the
 * database which fills are missing).
 */
export interface SymbolLedger {
  qty: Fixed;
  avg: Fixed;
  /** The last fill applied, in replay order ((atUs, id)); -1 / 0 before the first. */
  lastAtUs: bigint;
  lastId: number;
  /** The highest fill id applied (ids are not in replay order). */
  maxId: number;
  buy: SideTally;
  sell: SideTally;
  /** Realized and fees amounts per `${long|short}|${YYYY-MM-DD}|${realized|fees}`. */
  parts: Map<string, Fixed>;
}

export function emptyLedger(): SymbolLedger {
  return {
    qty: ZERO,
    avg: ZERO,
    lastAtUs: -1n,
    lastId: 0,
    maxId: 0,
    buy: { n: 0, commission: ZERO, lastAtUs: -1n },
    sell: { n: 0, commission: ZERO, lastAtUs: -1n },
    parts: new Map(),
  };
}

/** replayOrder sorts fills the way the ledger applies them: by time, then id. */
export function replayOrder(a: LedgerFill, b: LedgerFill): number {
  return a.atUs < b.atUs ? -1 : a.atUs > b.atUs ? 1 : a.id - b.id;
}

/** comesAfter: whether fill f sorts after the ledger's last fill, so it may be appended. */
export function comesAfter(l: SymbolLedger, f: LedgerFill): boolean {
  return f.atUs > l.lastAtUs || (f.atUs === l.lastAtUs && f.id > l.lastId);
}

function addPart(l: SymbolLedger, key: string, amount: Fixed): void {
  l.parts.set(key, (l.parts.get(key) ?? ZERO) + amount);
}

/**
 * applyFill books one fill at average cost (as the position tracker keeps positions).
 * IMPORTANT: fills must come in replay order; a fill that sorts before the last one applied
 * means the symbol has to be replayed from its first fill (the caller checks `comesAfter`).
 */
export function applyFill(l: SymbolLedger, f: LedgerFill): void {
  if (!comesAfter(l, f)) {
    throw new Error(`attribution: fill ${f.id} of ${f.symbol} is out of replay order`);
  }
  const day = dayOf(f.atUs);
  const qty = fromDecimal(f.qty);
  const price = fromDecimal(f.price);
  const signed = f.side === "buy" ? qty : -qty;
  const fee = fromDecimal(f.commission);
  const tally = l[f.side];
  tally.n += 1;
  tally.commission += fee;
  if (f.atUs > tally.lastAtUs) tally.lastAtUs = f.atUs;
  l.lastAtUs = f.atUs;
  l.lastId = f.id;
  if (f.id > l.maxId) l.maxId = f.id;
  const side = l.qty > 0n || (l.qty === 0n && signed > 0n) ? "long" : "short";
  if (fee !== 0n) addPart(l, `${side}|${day}|fees`, fee);
  if (l.qty === 0n || l.qty > 0n === signed > 0n) {
    // Opening or adding: the average cost moves, nothing is realized.
    const newQty = l.qty + signed;
    const cost = mul(l.avg, abs(l.qty)) + mul(price, qty);
    l.avg = (cost * SCALE) / abs(newQty);
    l.qty = newQty;
    return;
  }
  const closing = min(qty, abs(l.qty));
  const perShare = l.qty > 0n ? price - l.avg : l.avg - price;
  addPart(l, `${side}|${day}|realized`, mul(perShare, closing));
  const left = qty - closing;
  const newQty = l.qty + signed;
  // A fill that crosses zero opens the other side at its own price.
  l.avg = left > 0n ? price : newQty === 0n ? ZERO : l.avg;
  l.qty = newQty;
}

const US_PER_DAY = 86_400_000_000n;
/** The last day dayOf formatted: fills come in time order, so most share their predecessor's. */
let lastDay = { index: 0n, text: "1970-01-01" };

/** dayOf: the UTC day (YYYY-MM-DD) of a time in µs. */
function dayOf(atUs: bigint): string {
  const index = atUs >= 0n ? atUs / US_PER_DAY : (atUs - US_PER_DAY + 1n) / US_PER_DAY;
  if (index !== lastDay.index) {
    lastDay = { index, text: new Date(Number(index * 86_400_000n)).toISOString().slice(0, 10) };
  }
  return lastDay.text;
}

/** replayLedgers applies fills (any order; sorted here) to copies of `base`, per symbol. */
export function replayLedgers(
  base: ReadonlyMap<string, SymbolLedger>,
  fills: LedgerFill[],
): Map<string, SymbolLedger> {
  const out = new Map<string, SymbolLedger>();
  for (const f of [...fills].sort(replayOrder)) {
    let l = out.get(f.symbol);
    if (!l) {
      const from = base.get(f.symbol);
      l = from ? cloneLedger(from) : emptyLedger();
      out.set(f.symbol, l);
    }
    applyFill(l, f);
  }
  return out;
}

export function cloneLedger(l: SymbolLedger): SymbolLedger {
  return { ...l, buy: { ...l.buy }, sell: { ...l.sell }, parts: new Map(l.parts) };
}

/** The state as JSON (bigints as decimal strings), for the table that keeps it across restarts. */
export function ledgerToJson(l: SymbolLedger): unknown {
  const tally = (t: SideTally) => ({
    n: t.n,
    commission: t.commission.toString(),
    lastAtUs: t.lastAtUs.toString(),
  });
  return {
    v: 1,
    qty: l.qty.toString(),
    avg: l.avg.toString(),
    lastAtUs: l.lastAtUs.toString(),
    lastId: l.lastId,
    maxId: l.maxId,
    buy: tally(l.buy),
    sell: tally(l.sell),
    parts: Object.fromEntries([...l.parts].map(([k, v]) => [k, v.toString()])),
  };
}

/** ledgerFromJson reads what ledgerToJson wrote; null when it is not that shape. */
export function ledgerFromJson(j: unknown): SymbolLedger | null {
  try {
    const o = j as Record<string, string | number | Record<string, string>>;
    if (o?.v !== 1) return null;
    const text = (k: string) => o[k] as string;
    const tally = (t: Record<string, unknown>): SideTally => ({
      n: Number(t.n),
      commission: BigInt(t.commission as string),
      lastAtUs: BigInt(t.lastAtUs as string),
    });
    return {
      qty: BigInt(text("qty")),
      avg: BigInt(text("avg")),
      lastAtUs: BigInt(text("lastAtUs")),
      lastId: Number(o.lastId),
      maxId: Number(o.maxId),
      buy: tally(o.buy as Record<string, string>),
      sell: tally(o.sell as Record<string, string>),
      parts: new Map(
        Object.entries(o.parts as Record<string, string>).map(([k, v]) => [k, BigInt(v)]),
      ),
    };
  } catch {
    return null;
  }
}

/** contributions: every realized and fee amount booked, and the open positions' unrealized. */
function contributions(
  ledgers: ReadonlyMap<string, SymbolLedger>,
  marks: Record<string, string>,
  asOfDay: string,
): Contribution[] {
  const out: Contribution[] = [];
  for (const [symbol, l] of ledgers) {
    for (const [key, amount] of l.parts) {
      const [side, day, part] = key.split("|") as ["long" | "short", string, Part];
      out.push({ symbol, side, day, part, amount });
    }
    if (l.qty === 0n) continue;
    const mark = marks[symbol];
    if (mark === undefined) continue;
    const amount = mul(fromDecimal(mark) - l.avg, l.qty);
    out.push({
      symbol,
      side: l.qty > 0n ? "long" : "short",
      day: asOfDay,
      part: "unrealized",
      amount,
    });
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

/** A row of fills_rollup (sql/0012): per symbol and side, what the database holds. */
export interface RollupRow extends SideTally {
  symbol: string;
  side: "buy" | "sell";
}

/** What to do to bring the ledgers up to the database's fills. */
export interface SyncPlan {
  /** Symbols whose new fills all sort after their ledger's last: applied on top of it. */
  extend: Map<string, LedgerFill[]>;
  /** Symbols replayed from their first fill: a fill committed late (below the watermark, or
   * earlier in time than the last applied), or the ledger is not the database's any more. */
  replay: string[];
  /** Symbols that have no fill any more. */
  drop: string[];
}

/**
 * planSync decides, from the ledgers, the fills rollup and the fills above the watermark (the
 * highest id applied), all read in one snapshot, which symbols can be extended and which must
 * be replayed. Ids are taken in commit order by nobody: a writer can commit id 7 after another
 * committed id 8 and the dashboard read up to 8. The rollup is kept in the writers' own
 * transactions, so it counts id 7; the ledger plus the new fills then do not add up to it, and
 * the symbol is replayed. A ledger matches only when per side the count, the commissions and
 * the last fill time all agree.
 */
export function planSync(
  ledgers: ReadonlyMap<string, SymbolLedger>,
  rollup: readonly RollupRow[],
  newFills: readonly LedgerFill[],
): SyncPlan {
  const held = new Map<string, { buy?: RollupRow; sell?: RollupRow }>();
  for (const r of rollup) held.set(r.symbol, { ...held.get(r.symbol), [r.side]: r });
  const fresh = new Map<string, LedgerFill[]>();
  for (const f of newFills) {
    const list = fresh.get(f.symbol);
    if (list) list.push(f);
    else fresh.set(f.symbol, [f]);
  }
  const plan: SyncPlan = { extend: new Map(), replay: [], drop: [] };
  const symbols = new Set([...ledgers.keys(), ...held.keys(), ...fresh.keys()]);
  for (const symbol of [...symbols].sort()) {
    const inDb = held.get(symbol);
    const ledger = ledgers.get(symbol) ?? emptyLedger();
    const adds = (fresh.get(symbol) ?? []).sort(replayOrder);
    if (!inDb) {
      if (adds.length > 0) plan.replay.push(symbol);
      else if (ledgers.has(symbol)) plan.drop.push(symbol);
      continue;
    }
    const inOrder = adds.length === 0 || comesAfter(ledger, adds[0]!);
    const agrees = (["buy", "sell"] as const).every((side) => {
      const t = { ...ledger[side] };
      for (const f of adds) {
        if (f.side !== side) continue;
        t.n += 1;
        t.commission += fromDecimal(f.commission);
        if (f.atUs > t.lastAtUs) t.lastAtUs = f.atUs;
      }
      const r = inDb[side];
      if (!r) return t.n === 0;
      return t.n === r.n && t.commission === r.commission && t.lastAtUs === r.lastAtUs;
    });
    if (!inOrder || !agrees) plan.replay.push(symbol);
    else if (adds.length > 0) plan.extend.set(symbol, adds);
  }
  return plan;
}

/** attribute replays the fills from nothing and splits the P&L (the reference computation). */
export function attribute(input: AttributionInput): Attribution {
  const fills: LedgerFill[] = input.fills.map((f, i) => ({
    ...f,
    id: i + 1,
    atUs: BigInt(Date.parse(f.filledAt)) * 1000n,
  }));
  return split(replayLedgers(new Map(), fills), input);
}

/** split turns the ledgers into the P&L total and its split along each dimension, in cents. */
export function split(
  ledgers: ReadonlyMap<string, SymbolLedger>,
  view: Omit<AttributionInput, "fills">,
): Attribution {
  const items = contributions(ledgers, view.marks, view.asOfDay);
  const sum = (part: Part) =>
    toCents(items.filter((c) => c.part === part).reduce((s, c) => s + c.amount, 0n));
  const totals = { realized: sum("realized"), unrealized: sum("unrealized"), fees: sum("fees") };
  return {
    total: { ...totals, total: totals.realized + totals.unrealized - totals.fees },
    bySymbol: group(items, (c) => c.symbol, totals),
    bySide: group(items, (c) => c.side, totals),
    bySector: group(items, (c) => view.sectors[c.symbol] ?? "unknown", totals),
    byDay: group(items, (c) => c.day, totals),
  };
}

/** centsText formats cents as a dollar amount with two decimals (-12.05). */
export function centsText(cents: bigint): string {
  const sign = cents < 0n ? "-" : "";
  const a = abs(cents);
  return `${sign}${a / 100n}.${(a % 100n).toString().padStart(2, "0")}`;
}
