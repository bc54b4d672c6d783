/**
 * Recordings: the kernel's input log in the catalog's format, and its replay.
 *
 * A recording holds every entry-point call of a kernel in order (`seq`, global): market data as
 * catalog partitions (quotes/, trades/ with `t_ns` = exchange time, `received_ns` = when the
 * kernel got it, and `seq`), and everything else (start, broker answers, retries due, time
 * advancing, reconciliations, controls) in broker/date=D.parquet (`seq`, `received_ns`, `type`,
 * `json`, the event with bigints as "123n" strings). `intents.csv` lists the order intents the
 * run sent and `recording.json` describes it (symbols, dates, the intents' SHA-256).
 *
 * Replaying feeds the calls back in `seq` order to a new kernel whose broker only collects what
 * it is asked to send: the recorded broker answers stand in for the broker. Same spec and model,
 * same intents, byte for byte; `replayRecording` compares them by hash.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { etDate } from "../broker-sim/core/time.ts";
import { type Fixed, max, toDecimal } from "../core/money.ts";
import type { ExecutionEvent, OrderRequest } from "../execution-engine/core/index.ts";
import {
  Kernel,
  type KernelConfig,
  type KernelInput,
  type SignalEmitted,
} from "../kernel/kernel.ts";
import { fixedFromWire } from "../market-data/core/alpaca-decode.ts";
import type { MarketDataEvent } from "../market-data/core/events.ts";
import {
  DECISIONS_FILE,
  DECISIONS_HEADER,
  type DecisionFields,
  decisionLine,
} from "../signal-bridge/decision-log.ts";
import type { ModelScore } from "../signal-bridge/strategy/replay.ts";
import { badData, writeBooks, writeRecords } from "./catalog/catalog.ts";
import {
  brokerPartitionPath,
  datesBetween,
  partitionPath,
  QUOTE_COLUMNS,
  TRADE_COLUMNS,
} from "./catalog/layout.ts";
import { readColumns, writeParquet } from "./catalog/parquet.ts";
import { intentsText, sha256 } from "./digest.ts";
import { type BacktestConfig, type BacktestResult, runBacktest } from "./engine.ts";
import { bookRecord, type MarketRecord, quoteRecord, tradeRecord } from "./records.ts";

const bigintOut = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);
const BIGINT_RE = /^-?\d+n$/;
const bigintIn = (_k: string, v: unknown) =>
  typeof v === "string" && BIGINT_RE.test(v) ? BigInt(v.slice(0, -1)) : v;

interface OtherRow {
  seq: bigint;
  receivedNs: bigint;
  type: string;
  json: string;
}

/** InputRecorder collects a kernel's inputs (pass `recorder.onInput` as the kernel's port). */
export class InputRecorder {
  private seq = 0n;
  private readonly market = new Map<string, { records: MarketRecord[]; seq: bigint[] }>();
  private readonly other = new Map<string, OtherRow[]>();
  private lastNs = 0n;

  readonly onInput = (input: KernelInput): void => {
    const seq = this.seq++;
    if (input.kind === "market") {
      this.lastNs = input.nowNs;
      const e = input.event;
      if (e.type === "book") {
        // L2 levels as catalog book rows (the queue fill model's input); not kernel inputs.
        const part = this.partition(`books|${e.symbol}|${etDate(input.nowNs)}`);
        for (const [side, levels] of [
          ["bid", e.bids],
          ["ask", e.asks],
        ] as const) {
          for (let i = 0; i < levels.length; i++) {
            const l = levels[i]!;
            part.records.push(
              bookRecord(
                e.symbol,
                e.timeNs,
                side,
                l.price,
                l.size,
                e.reset && i === 0,
                input.nowNs,
              ),
            );
            part.seq.push(seq);
          }
        }
        return;
      }
      const record =
        e.type === "quote"
          ? quoteRecord(
              e.symbol,
              e.timeNs,
              e.bidPrice,
              e.bidSize,
              e.askPrice,
              e.askSize,
              input.nowNs,
            )
          : tradeRecord(e.symbol, e.timeNs, e.price, e.size, e.tradeId, input.nowNs);
      const key = `${e.type === "quote" ? "quotes" : "trades"}|${e.symbol}|${etDate(input.nowNs)}`;
      const part = this.partition(key);
      part.records.push(record);
      part.seq.push(seq);
      return;
    }
    const at =
      input.kind === "execution"
        ? input.event.timeNs
        : input.kind === "control"
          ? input.event.timeNs
          : input.nowNs;
    // An execution event's own time may lag the kernel's clock; the log keeps the clock's order.
    const receivedNs = max(at, this.lastNs);
    this.lastNs = receivedNs;
    const date = etDate(receivedNs);
    let rows = this.other.get(date);
    if (rows === undefined) {
      rows = [];
      this.other.set(date, rows);
    }
    rows.push({ seq, receivedNs, type: input.kind, json: JSON.stringify(input, bigintOut) });
  };

  private partition(key: string): { records: MarketRecord[]; seq: bigint[] } {
    let part = this.market.get(key);
    if (part === undefined) {
      part = { records: [], seq: [] };
      this.market.set(key, part);
    }
    return part;
  }

  /** write puts the recording into `dir` (catalog partitions, broker/, intents.csv, recording.json). */
  write(
    dir: string,
    intents: readonly OrderRequest[],
    meta: { pipeline: string; symbols: readonly string[] },
  ): { files: number; intentsSha256: string } {
    const { files, dates } = this.writeInputs(dir);
    const text = intentsText(intents);
    writeFileSync(join(dir, "intents.csv"), text);
    const intentsSha256 = sha256(text);
    writeRecordingInfo(dir, dates, { ...meta, intents: intents.length, intentsSha256 });
    return { files: files + 2, intentsSha256 };
  }

  /** writeInputs writes the logged inputs (catalog partitions and broker/) and their dates. */
  writeInputs(dir: string): { files: number; dates: Set<string> } {
    let files = 0;
    const dates = new Set<string>();
    for (const [key, part] of this.market) {
      const [kind, symbol, date] = key.split("|") as [
        "quotes" | "trades" | "books",
        string,
        string,
      ];
      // Receive order is the file's order; t_ns (exchange time) may step back across venues.
      if (kind === "books") writeBooks(dir, symbol, date, part.records, part.seq);
      else writeRecords(dir, kind, symbol, date, part.records, part.seq);
      dates.add(date);
      files++;
    }
    for (const [date, rows] of this.other) {
      writeParquet(brokerPartitionPath(dir, date), [
        { name: "seq", type: "INT64", data: rows.map((r) => r.seq) },
        { name: "received_ns", type: "INT64", data: rows.map((r) => r.receivedNs) },
        { name: "type", type: "STRING", data: rows.map((r) => r.type) },
        { name: "json", type: "STRING", data: rows.map((r) => r.json) },
      ]);
      dates.add(date);
      files++;
    }
    return { files, dates };
  }
}

function writeRecordingInfo(dir: string, dates: ReadonlySet<string>, info: object): void {
  const sorted = [...dates].sort();
  writeFileSync(
    join(dir, "recording.json"),
    `${JSON.stringify({ format: "tradepipe-recording", version: 1, ...info, from: sorted[0], to: sorted.at(-1) }, null, 1)}\n`,
  );
}

const marketRecorders = new Map<string, MarketRecorder>();

/**
 * marketRecorderFor: the process's one recorder for `dir`. A stage that stops and starts again
 * in the same process (leadership lost and regained) keeps recording into it, and each stop
 * writes everything received so far: a restart never replaces the session by its tail.
 */
export function marketRecorderFor(dir: string): MarketRecorder {
  let r = marketRecorders.get(dir);
  if (r === undefined) {
    r = new MarketRecorder();
    marketRecorders.set(dir, r);
  }
  return r;
}

/**
 * MarketRecorder records a live session at market-data ingress (`tradepipe run --record DIR`):
 * every decoded quote, trade and L2 book update as the market-data stage received it (`received_ns` = when the
 * stage read its frame; `seq` = arrival order across symbols), kept in memory and written as
 * catalog partitions when the stage stops. The recording has no broker log (`inputs:
 * "market"`); the signal-bridge writes the live decisions beside it (decisions.csv), and
 * `replayRecording` compares the replayed decisions with those.
 */
export class MarketRecorder {
  readonly #inputs = new InputRecorder();
  readonly #input: { kind: "market"; nowNs: bigint; event: MarketDataEvent } = {
    kind: "market",
    nowNs: 0n,
    event: null as unknown as MarketDataEvent,
  };

  /** record logs one feed event received at `receivedNs` (L2 books as book rows). */
  record(event: MarketDataEvent, receivedNs: bigint): void {
    const input = this.#input;
    input.nowNs = receivedNs;
    input.event = event;
    this.#inputs.onInput(input);
  }

  write(dir: string, meta: { pipeline: string; symbols: readonly string[] }): { files: number } {
    const { files, dates } = this.#inputs.writeInputs(dir);
    writeRecordingInfo(dir, dates, { ...meta, inputs: "market", decisions: DECISIONS_FILE });
    return { files: files + 1 };
  }
}

export interface RecordingInfo {
  pipeline: string;
  symbols: string[];
  from: string;
  to: string;
  /** inputs: "market" for a recording made at market-data ingress (no broker log, no intents). */
  inputs?: "market";
  intents: number;
  intentsSha256: string;
}

export function readRecordingInfo(dir: string): RecordingInfo {
  const path = join(dir, "recording.json");
  if (!existsSync(path)) throw new Error(`${dir} is not a recording: no recording.json`);
  return JSON.parse(readFileSync(path, "utf8")) as RecordingInfo;
}

type Logged = { seq: bigint; input: KernelInput };

/** readInputs reads one date of a recording back as kernel inputs in `seq` order. */
async function readInputs(
  dir: string,
  date: string,
  symbols: readonly string[],
): Promise<Logged[]> {
  const out: Logged[] = [];
  for (const kind of ["quotes", "trades"] as const) {
    for (const symbol of symbols) {
      const path = partitionPath(dir, kind, symbol, date);
      if (!existsSync(path)) continue;
      const names = [...(kind === "quotes" ? QUOTE_COLUMNS : TRADE_COLUMNS), "seq"];
      const { rows, columns: c } = await readColumns(path, names);
      for (let i = 0; i < rows; i++) {
        const nowNs = c.received_ns![i] as bigint;
        const timeNs = c.t_ns![i] as bigint;
        const f = (name: string): Fixed => {
          try {
            return fixedFromWire(c[name]![i], name);
          } catch {
            throw badData(path, i, `${name} is not a finite number`);
          }
        };
        const event: MarketDataEvent =
          kind === "quotes"
            ? {
                type: "quote",
                symbol,
                timeNs,
                bidPrice: f("bid_price"),
                bidSize: f("bid_size"),
                askPrice: f("ask_price"),
                askSize: f("ask_size"),
              }
            : {
                type: "trade",
                symbol,
                timeNs,
                price: f("price"),
                size: f("size"),
                tradeId: Number(c.trade_id![i]),
              };
        out.push({ seq: c.seq![i] as bigint, input: { kind: "market", nowNs, event } });
      }
    }
  }
  const broker = brokerPartitionPath(dir, date);
  if (existsSync(broker)) {
    const { rows, columns: c } = await readColumns(broker, ["seq", "json"]);
    for (let i = 0; i < rows; i++) {
      out.push({
        seq: c.seq![i] as bigint,
        input: JSON.parse(c.json![i] as string, bigintIn) as KernelInput,
      });
    }
  }
  out.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.seq === out[i - 1]!.seq)
      throw new Error(`${dir} ${date}: input seq ${out[i]!.seq} appears twice`);
  }
  return out;
}

export interface ReplayOutcome {
  /**
   * compared: what was compared with the recording: the order intents (a kernel recording, with
   * its broker log), or the signal-bridge's decisions (a live recording at market-data ingress).
   */
  compared: "intents" | "decisions";
  intents: OrderRequest[];
  /** decisions: the replayed decision lines (decision-log.ts), in order. */
  decisions: string[];
  /** sha256 of the replayed text compared (intents or decisions); recordedSha256 of the recording's. */
  sha256: string;
  recordedSha256: string;
  identical: boolean;
  /** firstDifference: the first line that differs (1-based, after any header), or 0. */
  firstDifference: number;
  /** lines: how many lines (intents or decisions) the replay produced. */
  lines: number;
  inputs: number;
}

/**
 * replayRecording replays a recording through a new kernel and compares its order intents (a
 * kernel recording) or its decisions (a live recording at market-data ingress) with the recorded.
 */
export async function replayRecording(
  dir: string,
  config: KernelConfig,
  score: ModelScore,
): Promise<ReplayOutcome> {
  const info = readRecordingInfo(dir);
  const intents: OrderRequest[] = [];
  const decisions: string[] = [];
  const kernel = new Kernel(config, {
    score,
    broker: { send: (cmd) => void intents.push(cmd.request), cancel: () => {}, resolve: () => {} },
    // Retries come back as recorded RetryDue events.
    scheduleRetry: () => {},
    observer: { signal: (s) => void decisions.push(decisionLine(decisionOf(s))) },
  });
  let inputs = 0;
  let lastSeq = -1n;
  for (const date of datesBetween(info.from, info.to)) {
    for (const { seq, input } of await readInputs(dir, date, info.symbols)) {
      if (seq <= lastSeq) throw new Error(`${dir} ${date}: input seq ${seq} after ${lastSeq}`);
      lastSeq = seq;
      inputs++;
      applyInput(kernel, input);
    }
  }
  if (info.inputs === "market") {
    const path = join(dir, DECISIONS_FILE);
    if (!existsSync(path))
      throw new Error(`${dir}: no ${DECISIONS_FILE} (the signal-bridge did not record)`);
    const recorded = readFileSync(path, "utf8");
    if (!recorded.startsWith(DECISIONS_HEADER))
      throw new Error(`${path}: the first line is not the decisions header`);
    const body = recorded.slice(DECISIONS_HEADER.length);
    return compared("decisions", decisions.join(""), body, sha256(body), {
      intents,
      decisions,
      inputs,
      lines: decisions.length,
    });
  }
  const recorded = readFileSync(join(dir, "intents.csv"), "utf8");
  const outcome = compared("intents", intentsText(intents), recorded, info.intentsSha256, {
    intents,
    decisions,
    inputs,
    lines: intents.length,
  });
  // The file must also be the one the recording's hash names.
  outcome.identical &&= sha256(recorded) === info.intentsSha256;
  return outcome;
}

function compared(
  kind: ReplayOutcome["compared"],
  text: string,
  recorded: string,
  recordedSha256: string,
  rest: Pick<ReplayOutcome, "intents" | "decisions" | "inputs" | "lines">,
): ReplayOutcome {
  const a = text.split("\n");
  const b = recorded.split("\n");
  let firstDifference = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      firstDifference = i + 1;
      break;
    }
  }
  const hash = sha256(text);
  return {
    compared: kind,
    sha256: hash,
    recordedSha256,
    identical: hash === recordedSha256,
    firstDifference,
    ...rest,
  };
}

/** decisionOf: a kernel signal as the signal-bridge stage logs it (decision-log.ts). */
export function decisionOf(s: SignalEmitted): DecisionFields {
  return {
    signalId: s.signalId,
    strategyId: s.strategyId,
    symbol: s.symbol,
    direction: s.direction,
    quantity: s.quantity,
    limitPrice: s.limitPrice,
    referencePrice: toDecimal(s.referencePrice),
    confidence: s.confidence,
  };
}

function applyInput(kernel: Kernel, input: KernelInput): void {
  switch (input.kind) {
    case "start":
      kernel.start(input.nowNs, input.account);
      break;
    case "market":
      kernel.marketData(input.event, input.nowNs);
      break;
    case "execution":
      kernel.execution(input.event as ExecutionEvent);
      break;
    case "advance":
      kernel.advance(input.nowNs);
      break;
    case "reconcile":
      kernel.reconcile(input.nowNs, input.cash, input.positions);
      break;
    case "control":
      kernel.control(input.event);
      break;
  }
}

/** recordingDates lists the dates a recording's broker log covers (for progress). */
export function recordingDates(dir: string): string[] {
  const brokerDir = join(dir, "broker");
  if (!existsSync(brokerDir)) return [];
  return readdirSync(brokerDir)
    .map((f) => /^date=(\d{4}-\d{2}-\d{2})\.parquet$/.exec(f)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort();
}

/** recordedMarket streams a recording's market data (one date at a time) in exchange-time order. */
export async function* recordedMarket(dir: string): AsyncGenerator<MarketRecord[]> {
  const info = readRecordingInfo(dir);
  for (const date of datesBetween(info.from, info.to)) {
    const logged = (await readInputs(dir, date, info.symbols)).filter(
      (l) => l.input.kind === "market",
    );
    const records: { seq: bigint; r: MarketRecord }[] = [];
    for (const { seq, input } of logged) {
      if (input.kind !== "market") continue;
      const e = input.event;
      if (e.type === "quote") {
        records.push({
          seq,
          r: quoteRecord(
            e.symbol,
            e.timeNs,
            e.bidPrice,
            e.bidSize,
            e.askPrice,
            e.askSize,
            input.nowNs,
          ),
        });
      } else if (e.type === "trade") {
        records.push({
          seq,
          r: tradeRecord(e.symbol, e.timeNs, e.price, e.size, e.tradeId, input.nowNs),
        });
      }
    }
    records.sort((a, b) =>
      a.r.exchangeNs < b.r.exchangeNs
        ? -1
        : a.r.exchangeNs > b.r.exchangeNs
          ? 1
          : a.seq < b.seq
            ? -1
            : 1,
    );
    if (records.length > 0) yield records.map((x) => x.r);
  }
}

/** SessionBook: one side's trading in one symbol, for comparing a session with a simulation. */
export interface SessionBook {
  ordered: Fixed;
  filled: Fixed;
  buyQty: Fixed;
  buyNotional: Fixed;
  sellQty: Fixed;
  sellNotional: Fixed;
}

const emptyBook = (): SessionBook => ({
  ordered: 0n,
  filled: 0n,
  buyQty: 0n,
  buyNotional: 0n,
  sellQty: 0n,
  sellNotional: 0n,
});

export interface SymbolParity {
  symbol: string;
  recorded: { fillRate: number | null; pnl: number };
  simulated: { fillRate: number | null; pnl: number };
  fillRateDiff: number | null;
  /** priceDiffBps: simulated vs recorded average fill price, adverse positive, buys and sells. */
  priceDiffBps: number | null;
  pnlDiff: number;
}

/** books adds intents and fills into per-symbol books. */
export function booksOf(
  intents: readonly OrderRequest[],
  fills: readonly { clientOrderId: string; qty: Fixed; price: Fixed }[],
): Map<string, SessionBook> {
  const books = new Map<string, SessionBook>();
  const byId = new Map<string, OrderRequest>();
  const book = (s: string) => {
    let b = books.get(s);
    if (b === undefined) {
      b = emptyBook();
      books.set(s, b);
    }
    return b;
  };
  for (const r of intents) {
    if (byId.has(r.clientOrderId)) continue; // a retry sends the same order again
    byId.set(r.clientOrderId, r);
    book(r.symbol).ordered += r.qty;
  }
  for (const f of fills) {
    const r = byId.get(f.clientOrderId);
    if (r === undefined) continue;
    const b = book(r.symbol);
    b.filled += f.qty;
    const notional = (f.qty * f.price) / 1_000_000_000n;
    if (r.side === "buy") {
      b.buyQty += f.qty;
      b.buyNotional += notional;
    } else {
      b.sellQty += f.qty;
      b.sellNotional += notional;
    }
  }
  return books;
}

/** recordedSession reads the intents, fills and last mids of a recorded session. */
export async function recordedSession(
  dir: string,
): Promise<{ books: Map<string, SessionBook>; marks: Map<string, Fixed> }> {
  const info = readRecordingInfo(dir);
  const intents = readFileSync(join(dir, "intents.csv"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [clientOrderId, symbol, side, qty, orderType, limit, tif] = l.split(",") as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      return {
        clientOrderId,
        symbol,
        side: side as "buy" | "sell",
        qty: fixedFromWire(qty, "qty"),
        orderType: orderType as "market" | "limit",
        limitPrice: limit === "" ? null : fixedFromWire(limit, "limit"),
        timeInForce: tif as OrderRequest["timeInForce"],
      };
    });
  const fills: { clientOrderId: string; qty: Fixed; price: Fixed }[] = [];
  const marks = new Map<string, Fixed>();
  for (const date of datesBetween(info.from, info.to)) {
    for (const { input } of await readInputs(dir, date, info.symbols)) {
      if (input.kind === "market" && input.event.type === "quote") {
        const q = input.event;
        if (q.bidPrice > 0n && q.askPrice > 0n) marks.set(q.symbol, (q.bidPrice + q.askPrice) / 2n);
      } else if (input.kind === "execution" && input.event.type === "TradeUpdated") {
        const e = input.event;
        if (e.fillQty !== null && e.fillPrice !== null && e.fillQty > 0n) {
          fills.push({ clientOrderId: e.clientOrderId, qty: e.fillQty, price: e.fillPrice });
        }
      }
    }
  }
  return { books: booksOf(intents, fills), marks };
}

const n = (v: Fixed) => Number(v) / 1e9;

/** compareSessions: per symbol, the simulated minus the recorded fill rate, prices and P&L. */
export function compareSessions(
  recorded: { books: Map<string, SessionBook>; marks: ReadonlyMap<string, Fixed> },
  simulated: { books: Map<string, SessionBook>; marks: ReadonlyMap<string, Fixed> },
): SymbolParity[] {
  const symbols = [...new Set([...recorded.books.keys(), ...simulated.books.keys()])].sort();
  const pnl = (b: SessionBook | undefined, mark: Fixed | undefined) =>
    b === undefined
      ? 0
      : n(b.sellNotional - b.buyNotional) + n(b.buyQty - b.sellQty) * n(mark ?? 0n);
  const rate = (b: SessionBook | undefined) =>
    b === undefined || b.ordered === 0n ? null : n(b.filled) / n(b.ordered);
  return symbols.map((symbol) => {
    const r = recorded.books.get(symbol);
    const s = simulated.books.get(symbol);
    const mark = recorded.marks.get(symbol) ?? simulated.marks.get(symbol);
    const rr = rate(r);
    const sr = rate(s);
    let weighted = 0;
    let weight = 0;
    for (const side of ["buy", "sell"] as const) {
      const rq = side === "buy" ? r?.buyQty : r?.sellQty;
      const sq = side === "buy" ? s?.buyQty : s?.sellQty;
      if (!rq || !sq) continue;
      const ra = n(side === "buy" ? r!.buyNotional : r!.sellNotional) / n(rq);
      const sa = n(side === "buy" ? s!.buyNotional : s!.sellNotional) / n(sq);
      const bps = ((side === "buy" ? sa - ra : ra - sa) / ra) * 10_000;
      weighted += bps * n(sq);
      weight += n(sq);
    }
    const rp = pnl(r, mark);
    const sp = pnl(s, mark);
    return {
      symbol,
      recorded: { fillRate: rr, pnl: rp },
      simulated: { fillRate: sr, pnl: sp },
      fillRateDiff: rr === null || sr === null ? null : sr - rr,
      priceDiffBps: weight === 0 ? null : weighted / weight,
      pnlDiff: sp - rp,
    };
  });
}

/**
 * simulateRecording replays a recording's market data against the simulated venue (the engine
 * with `cfg`, feed times as recorded) and compares the outcome with the recorded session's.
 */
export async function simulateRecording(
  dir: string,
  cfg: BacktestConfig,
): Promise<{ parity: SymbolParity[]; result: BacktestResult }> {
  const result = await runBacktest(recordedMarket(dir), cfg);
  const simulated = {
    books: booksOf(
      result.intents.map((i) => i.request),
      result.fills,
    ),
    marks: new Map(Object.entries(result.marks)),
  };
  return { parity: compareSessions(await recordedSession(dir), simulated), result };
}
