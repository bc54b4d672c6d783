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
import { type Fixed, max } from "../core/money.ts";
import type { ExecutionEvent, OrderRequest } from "../execution-engine/core/index.ts";
import { Kernel, type KernelConfig, type KernelInput, type SignalModel } from "../kernel/kernel.ts";
import { fixedFromWire } from "../market-data/core/alpaca-decode.ts";
import type { MarketDataEvent } from "../market-data/core/events.ts";
import { badData, writeRecords } from "./catalog/catalog.ts";
import {
  brokerPartitionPath,
  datesBetween,
  partitionPath,
  QUOTE_COLUMNS,
  TRADE_COLUMNS,
} from "./catalog/layout.ts";
import { readColumns, writeParquet } from "./catalog/parquet.ts";
import { intentsText, sha256 } from "./digest.ts";
import { type MarketRecord, quoteRecord, tradeRecord } from "./records.ts";

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
      if (e.type === "book") return; // L2 books are not recorded yet (the catalog has no book kind)
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
      let part = this.market.get(key);
      if (part === undefined) {
        part = { records: [], seq: [] };
        this.market.set(key, part);
      }
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

  /** write puts the recording into `dir` (catalog partitions, broker/, intents.csv, recording.json). */
  write(
    dir: string,
    intents: readonly OrderRequest[],
    meta: { pipeline: string; symbols: readonly string[] },
  ): { files: number; intentsSha256: string } {
    let files = 0;
    const dates = new Set<string>();
    for (const [key, part] of this.market) {
      const [kind, symbol, date] = key.split("|") as ["quotes" | "trades", string, string];
      // Receive order is the file's order; t_ns (exchange time) may step back across venues.
      writeRecords(dir, kind, symbol, date, part.records, part.seq);
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
    const text = intentsText(intents);
    writeFileSync(join(dir, "intents.csv"), text);
    const sorted = [...dates].sort();
    const intentsSha256 = sha256(text);
    writeFileSync(
      join(dir, "recording.json"),
      `${JSON.stringify({ format: "tradepipe-recording", version: 1, ...meta, from: sorted[0], to: sorted.at(-1), intents: intents.length, intentsSha256 }, null, 1)}\n`,
    );
    return { files: files + 2, intentsSha256 };
  }
}

export interface RecordingInfo {
  pipeline: string;
  symbols: string[];
  from: string;
  to: string;
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
  intents: OrderRequest[];
  intentsSha256: string;
  recordedSha256: string;
  identical: boolean;
  /** firstDifference: the first intent line that differs (1-based), or 0. */
  firstDifference: number;
  inputs: number;
}

/** replayRecording replays a recording through a new kernel and compares its order intents. */
export async function replayRecording(
  dir: string,
  config: KernelConfig,
  model: SignalModel,
): Promise<ReplayOutcome> {
  const info = readRecordingInfo(dir);
  const intents: OrderRequest[] = [];
  const kernel = new Kernel(config, {
    model,
    broker: { send: (cmd) => void intents.push(cmd.request), cancel: () => {}, resolve: () => {} },
    // Retries come back as recorded RetryDue events.
    scheduleRetry: () => {},
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
  const text = intentsText(intents);
  const recorded = readFileSync(join(dir, "intents.csv"), "utf8");
  const a = text.split("\n");
  const b = recorded.split("\n");
  let firstDifference = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      firstDifference = i + 1;
      break;
    }
  }
  const intentsSha256 = sha256(text);
  return {
    intents,
    intentsSha256,
    recordedSha256: info.intentsSha256,
    identical: intentsSha256 === info.intentsSha256 && sha256(recorded) === info.intentsSha256,
    firstDifference,
    inputs,
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
