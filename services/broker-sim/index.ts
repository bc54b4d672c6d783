/**
 * broker-sim: an Alpaca-compatible paper broker and market-data simulator on one port.
 *
 *   const sim = await startSimulator({ port: 0, seed: 42 });
 *   // Trading REST: sim.tradingUrl + "/v2/..."   Market-data REST: sim.dataRestUrl + "/v2/stocks/..."
 *   // trade_updates: sim.streamUrl                Market-data stream: sim.dataUrl + "/v2/iex" (or sip, test)
 *   await sim.close();
 *
 * See README.md in this folder for options, fault injection and what is (not) modelled.
 */

import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { TradepipeError } from "../core/errors.ts";
import { type FeeRates, feeSchedule } from "../core/fees.ts";
import { fromDecimal } from "../core/money.ts";
import { assetFor, resolveSymbols } from "./assets.ts";
import type { AccountSnapshot } from "./core/account-file.ts";
import { eventSymbol, type MarketOptions } from "./core/market.ts";
import { parseRecording } from "./core/replay.ts";
import { formatRfc3339, NS_PER_MS, parseTime } from "./core/time.ts";
import type { MarketEvent } from "./core/types.ts";
import { type AdminState, adminState, recordLastday, resetSimulation } from "./http/admin.ts";
import { RateLimiter } from "./http/ratelimit.ts";
import { createHttpServer } from "./http/server.ts";
import { type AccountPersistence, attachStore } from "./shell/account-persistence.ts";
import { AccountStore, readAccountFile } from "./shell/account-store.ts";
import type { AdminAccess, Keys, SimContext } from "./shell/context.ts";
import { type ClockMode, Engine } from "./shell/engine.ts";
import { type FaultConfig, Faults, parseFaults } from "./shell/faults.ts";
import { restoredStart, withHeldSymbols } from "./shell/restore-plan.ts";
import { attachStreams } from "./ws/attach.ts";

/** DEV_KEYS is the key pair the simulator accepts by default. It is not a secret: dev use only. */
export const DEV_KEYS: Keys = {
  keyId: "PKTRADEPIPESIM000001",
  secretKey: "tradepipe-sim-dev-secret-000000000000000",
};

export interface SimulatorOptions {
  /** port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** host to bind; default 127.0.0.1. */
  host?: string;
  /** seed makes the market, ids and partial fills reproducible (default 1). */
  seed?: number;
  keys?: Keys;
  /** Who may use /admin/*: the API keys (default), a token of its own, or nobody. */
  admin?: AdminAccess;
  /** symbols: a list (default prices) or a symbol → starting price map. */
  symbols?: string[] | Record<string, number>;
  /** speed multiplies simulated time against wall time in realtime mode (default 1). */
  speed?: number;
  /** clock: "realtime" (default) or "manual" (time moves only through admin.advance). */
  clock?: ClockMode;
  /** startTime (RFC-3339) of the simulated clock; default: the wall clock at start. */
  startTime?: string;
  /** partialFillProbability: chance that an executable order fills only partly (default 0.1, as Alpaca paper). */
  partialFillProbability?: number;
  market?: Partial<MarketOptions>;
  faults?: Partial<FaultConfig>;
  /** marketAlwaysOpen (default true): the session never closes, so local runs trade at any hour. */
  marketAlwaysOpen?: boolean;
  /** startingCash in dollars (default "100000"). */
  startingCash?: string;
  /**
   * fees: the regulatory fee rates (`services/core/fees.ts`) charged on every execution, taken
   * from cash and listed as FEE account activities. Default: none.
   */
  fees?: FeeRates;
  shortingEnabled?: boolean;
  /** rateLimitPerMin per account (default 200, Alpaca's). */
  rateLimitPerMin?: number;
  /** replayFile: NDJSON of recorded Alpaca messages to play instead of the synthetic market. */
  replayFile?: string;
  /** historyLimit: trades/quotes/bars kept per symbol for the historical REST endpoints. */
  historyLimit?: number;
  /** tickMs: how often the realtime clock pushes the market forward (default 20). */
  tickMs?: number;
  /**
   * stateFile keeps the paper account (cash, positions, orders, fills) in this JSON file across
   * runs: loaded at start when it exists, saved after changes and on close. The market is not
   * kept: it restarts from the seed. See README.md, "Keeping the account between runs".
   */
  stateFile?: string;
  /** stateSaveIntervalMs: the least time between two saves of stateFile (default 200). */
  stateSaveIntervalMs?: number;
}

export interface SimulatorAdmin {
  state(): AdminState;
  setFaults(patch: Partial<FaultConfig>): FaultConfig;
  clearFaults(): void;
  /** advance moves simulated time forward by ms and returns the new time (RFC-3339). */
  advance(ms: number): string;
  setClock(opts: { mode?: ClockMode; speed?: number }): void;
  now(): string;
  setQuote(symbol: string, bid: string, ask: string): void;
  /**
   * split records a split of `symbol`: `ratio` new shares per old one ("10" for 10:1, "0.1" for
   * a 1:10 reverse split), effective at `effective` (RFC-3339; default now). Bars before it are
   * served at ratio × their price when `adjustment` is raw (Alpaca's default), dividend or
   * spin-off, and as generated when it is split or all. Positions are not touched.
   */
  split(symbol: string, ratio: string, effective?: string): void;
  reset(seed?: number, startTime?: string): void;
  closeSession(): void;
  disconnectStreams(kind?: "trade" | "data" | "all"): number;
  stallStreams(kind: "trade" | "data" | "all", ms: number): void;
  /** saveAccount writes the state file now (no-op without stateFile). */
  saveAccount(): Promise<void>;
}

export interface Simulator {
  /** tradingUrl is the Trading API base (http://host:port), like https://paper-api.alpaca.markets. */
  tradingUrl: string;
  /** dataRestUrl is the historical market-data base, like https://data.alpaca.markets (same server). */
  dataRestUrl: string;
  /** dataUrl is the market-data stream base (ws://host:port); append /v2/iex, /v2/sip or /v2/test. */
  dataUrl: string;
  /** streamUrl is the trade_updates stream (ws://host:port/stream). */
  streamUrl: string;
  port: number;
  keys: Keys;
  /** account: where the account is kept between runs; undefined without stateFile. */
  account: AccountPersistence | undefined;
  admin: SimulatorAdmin;
  close(): Promise<void>;
}

function invalidOption(message: string): TradepipeError {
  return new TradepipeError("TP_ERR_CONFIG", `broker-sim: ${message}`);
}

function loadReplay(path: string): MarketEvent[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw invalidOption(`replayFile ${path}: ${(e as Error).message}`);
  }
  const parsed = parseRecording(text);
  if (parsed.errors.length > 0)
    throw invalidOption(`replayFile ${path}: ${parsed.errors.slice(0, 5).join("; ")}`);
  if (parsed.events.length === 0) throw invalidOption(`replayFile ${path}: no events`);
  return parsed.events;
}

/** checkOptions names the first option that is out of range (programmatic callers included). */
function checkOptions(o: SimulatorOptions): void {
  const positive = (name: string, v: number | undefined, integer = false) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)))) {
      throw invalidOption(`${name} must be a positive ${integer ? "integer" : "number"}, got ${v}`);
    }
  };
  if (o.seed !== undefined && !Number.isInteger(o.seed))
    throw invalidOption(`seed must be an integer, got ${o.seed}`);
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536)) {
    throw invalidOption(`port must be 0..65535, got ${o.port}`);
  }
  positive("speed", o.speed);
  positive("rateLimitPerMin", o.rateLimitPerMin, true);
  positive("historyLimit", o.historyLimit, true);
  positive("tickMs", o.tickMs);
  positive("stateSaveIntervalMs", o.stateSaveIntervalMs);
  if (o.stateFile !== undefined && (typeof o.stateFile !== "string" || o.stateFile === "")) {
    throw invalidOption(`stateFile must be a file path, got ${JSON.stringify(o.stateFile)}`);
  }
  const p = o.partialFillProbability;
  if (p !== undefined && !(p >= 0 && p <= 1))
    throw invalidOption(`partialFillProbability must be in [0, 1], got ${p}`);
  for (const [k, v] of Object.entries(o.market ?? {}))
    positive(`market.${k}`, v as number, k === "depthLevels");
  for (const [s, price] of Object.entries(resolveSymbols(o.symbols))) {
    if (!/^[A-Z][A-Z0-9.]{0,15}$/.test(s))
      throw invalidOption(`symbols: "${s}" is not a stock symbol`);
    positive(`symbols.${s}`, price);
  }
  if (o.faults !== undefined) {
    const f = parseFaults(o.faults);
    if (!f.ok) throw invalidOption(`faults.${f.error}`);
  }
  if (o.fees !== undefined) {
    try {
      feeSchedule(o.fees);
    } catch (err) {
      throw invalidOption((err as Error).message);
    }
  }
  if (o.startingCash !== undefined && !/^\d+(\.\d+)?$/.test(o.startingCash)) {
    throw invalidOption(
      `startingCash must be a non-negative decimal string, got ${JSON.stringify(o.startingCash)}`,
    );
  }
}

/** startSimulator starts the HTTP + WebSocket simulator and resolves once it is listening. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  checkOptions(options);
  const seed = options.seed ?? 1;
  const speed = options.speed ?? 1;
  const p = options.partialFillProbability ?? 0.1;
  let startTime: bigint;
  if (options.startTime !== undefined) {
    const t = parseTime(options.startTime);
    if (t === undefined) throw invalidOption(`startTime is not RFC-3339: ${options.startTime}`);
    startTime = t;
  } else {
    startTime = BigInt(Date.now()) * NS_PER_MS;
  }
  const replay = options.replayFile ? loadReplay(options.replayFile) : undefined;
  // A replay trades the recorded symbols (plus any listed); the synthetic defaults stay out.
  const symbols = replay && options.symbols === undefined ? {} : resolveSymbols(options.symbols);
  for (const e of replay ?? []) {
    const s = eventSymbol(e);
    if (!(s in symbols)) symbols[s] = 100;
  }
  // The lock comes first: a file another simulator is writing must not even be read.
  const store =
    options.stateFile !== undefined
      ? new AccountStore(options.stateFile, { minIntervalMs: options.stateSaveIntervalMs })
      : undefined;
  try {
    const saved = store ? readAccountFile(store.path) : undefined;
    return await start(options, { seed, speed, p, startTime, replay, symbols, store, saved });
  } catch (e) {
    store?.release();
    throw e;
  }
}

interface Prepared {
  seed: number;
  speed: number;
  p: number;
  startTime: bigint;
  replay: MarketEvent[] | undefined;
  symbols: Record<string, number>;
  store: AccountStore | undefined;
  saved: AccountSnapshot | undefined;
}

async function start(options: SimulatorOptions, prep: Prepared): Promise<Simulator> {
  const { seed, speed, p, replay, store, saved } = prep;
  let { startTime, symbols } = prep;
  if (saved && store) {
    symbols = withHeldSymbols(symbols, saved);
    startTime = restoredStart(store.path, saved, startTime, options.startTime);
  }
  const keys = options.keys ?? DEV_KEYS;
  const engine = new Engine({
    seed,
    symbols,
    assets: Object.keys(symbols).map(assetFor),
    startTime,
    speed,
    clockMode: options.clock ?? "realtime",
    marketAlwaysOpen: options.marketAlwaysOpen ?? true,
    partialFillProbability: p,
    startingCash: fromDecimal(options.startingCash ?? "100000"),
    ...(options.fees !== undefined ? { fees: feeSchedule(options.fees) } : {}),
    shortingEnabled: options.shortingEnabled ?? true,
    market: options.market ?? {},
    replay,
    historyLimit: options.historyLimit ?? 20_000,
  });
  const rate = options.rateLimitPerMin ?? 200;
  const ctx: SimContext = {
    engine,
    faults: new Faults(seed, options.faults),
    tradingLimiter: new RateLimiter(rate),
    dataLimiter: new RateLimiter(rate),
    keys,
    admin: options.admin ?? { kind: "keys" },
    shortingEnabled: options.shortingEnabled ?? true,
    lastday: new Map(),
    orderRequests: [],
    streams: {
      disconnect: () => 0,
      counts: () => ({ trade: 0, data: 0, opened: { trade: 0, data: 0 } }),
    },
  };
  const account = store
    ? attachStore(ctx, store, saved, options.marketAlwaysOpen ?? true)
    : undefined;
  recordLastday(ctx);
  const server = createHttpServer(ctx);
  const streams = attachStreams(server, ctx);
  ctx.streams = streams;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const timer = setInterval(() => {
    try {
      engine.sync();
    } catch (e) {
      process.stderr.write(`broker-sim: clock tick failed: ${String(e)}\n`);
    }
  }, options.tickMs ?? 20);
  timer.unref();
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? "127.0.0.1";
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const admin: SimulatorAdmin = {
    state: () => adminState(ctx),
    setFaults: (patch) => {
      ctx.faults.set(patch);
      return ctx.faults.config;
    },
    clearFaults: () => ctx.faults.clear(),
    advance: (ms) => formatRfc3339(engine.advance(ms)),
    setClock: (o) => engine.setClock(o.mode, o.speed),
    now: () => formatRfc3339(engine.now()),
    setQuote: (symbol, bid, ask) => {
      if (!engine.forceQuote(symbol.toUpperCase(), fromDecimal(bid), fromDecimal(ask))) {
        throw invalidOption(`setQuote: unknown symbol ${symbol}`);
      }
    },
    split: (symbol, ratio, effective) => {
      const sym = symbol.toUpperCase();
      if (!engine.state.assets.has(sym)) throw invalidOption(`split: unknown symbol ${symbol}`);
      const r = fromDecimal(ratio);
      if (r <= 0n) throw invalidOption(`split: ratio must be positive, got ${ratio}`);
      const t = effective === undefined ? engine.now() : parseTime(effective);
      if (t === undefined) throw invalidOption(`split: effective is not RFC-3339: ${effective}`);
      engine.history.addSplit(sym, r, t);
    },
    reset: (s = seed, start) => {
      const t = start === undefined ? undefined : parseTime(start);
      if (start !== undefined && t === undefined)
        throw invalidOption(`reset: start is not RFC-3339: ${start}`);
      resetSimulation(ctx, s, t);
      ctx.onChange?.();
    },
    closeSession: () => engine.closeSession(),
    disconnectStreams: (kind = "all") => streams.disconnect(kind),
    stallStreams: (kind, ms) => {
      for (const k of kind === "all" ? (["trade", "data"] as const) : [kind])
        ctx.faults.stall(k, ms, performance.now());
    },
    saveAccount: async () => {
      await store?.flush();
    },
  };
  return {
    tradingUrl: `http://${hostInUrl}:${port}`,
    dataRestUrl: `http://${hostInUrl}:${port}`,
    dataUrl: `ws://${hostInUrl}:${port}`,
    streamUrl: `ws://${hostInUrl}:${port}/stream`,
    port,
    keys,
    account,
    admin,
    close: async () => {
      clearInterval(timer);
      streams.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store?.close();
    },
  };
}

export type { MarketOptions } from "./core/market.ts";
export type { AdminState, FillRecord } from "./http/admin.ts";
export { type AccountPersistence, describeAccount } from "./shell/account-persistence.ts";
export type { AdminAccess, Keys } from "./shell/context.ts";
export type { FaultConfig } from "./shell/faults.ts";
