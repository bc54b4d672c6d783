/**
 * context: what a stage shell is given, and what it gives back. Every stage is started the same
 * way by the multi-process host (stage-process.ts), the fused mode (fused.ts), systemd units and
 * pods, so a stage never knows which of them runs it.
 */

import type pg from "pg";
import type { AlpacaEndpoints } from "../alpaca-client/config.ts";
import type { Credentials } from "../alpaca-client/credentials.ts";
import type { Bus } from "../core/bus/index.ts";
import type { ControlHandler } from "../core/control/server.ts";
import type { Readiness, RouteHandler } from "../core/health/index.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { Logger, Metrics } from "../core/telemetry/index.ts";
import type { KeptStreams } from "./kept-streams.ts";
import type { StageProcess } from "./stages.ts";

/** RECORD_DIR_ENV carries `tradepipe run --record DIR` to every stage (processes, fused). */
export const RECORD_DIR_ENV = "TRADEPIPE_RECORD_DIR";

export interface BrokerConnection {
  kind: "simulator" | "alpaca";
  endpoints: AlpacaEndpoints;
  credentials: Credentials;
}

export interface StageContext {
  stage: StageProcess;
  /** The validated pipeline, defaults applied. */
  pipeline: TradingPipeline;
  bus: Bus;
  db: pg.Pool;
  /** Fencing epoch of this instance's leadership: stamp it on every write. */
  epoch: number;
  /** The leadership deadline, asked right before every external action (an order sent). */
  leadership: LeadershipGate;
  log: Logger;
  metrics: Metrics;
  readiness: Readiness;
  broker: BrokerConnection;
  /** Symbol → sector (config/sectors.yaml). */
  sectors: ReadonlyMap<string, string>;
  /** Wall clock in nanoseconds since the epoch: the shell's only clock. */
  nowNs(): bigint;
  /**
   * Extra read-only routes on this process's health server (GET only: that server is scraped
   * and probed without credentials), keyed "GET /path"; add freely.
   */
  routes: Record<string, RouteHandler>;
  /**
   * Routes on this process's authenticated control listener (services/core/control), keyed
   * "METHOD /path": everything that changes something goes here, never into `routes`.
   */
  controlRoutes: Record<string, ControlHandler>;
  /**
   * The process's broker streams, kept across terms of leadership (kept-streams.ts): a stage
   * that uses them keeps its WebSocket connections through a database outage. Absent: the stage
   * opens its own.
   */
  streams?: KeptStreams;
  /**
   * Calls `listener` with each new valid version of the spec file while the stage runs (absent
   * where nothing watches one, e.g. tests and backtests); returns the unsubscribe.
   */
  watchSpec?(listener: (pipeline: TradingPipeline) => void): () => void;
  /** Reports counters for the status screen and the supervisor (cheap; call freely). */
  report(status: StageReport): void;
  /**
   * recordDir: `tradepipe run --record DIR`: the market-data stage records what it receives
   * there (catalog partitions) and the signal-bridge its decisions (decisions.csv), for
   * `tradepipe backtest --replay DIR`. Absent: nothing is recorded.
   */
  recordDir?: string;
}

/**
 * LeadershipGate: a leader acts only while its last successful leadership renewal is younger
 * than a bound shorter than any takeover (services/core/db/leadership.ts). A stage whose
 * database went away keeps running for a moment (until the host stops it), so it asks before
 * each action and reports what it did not do.
 */
export interface LeadershipGate {
  /** True while this instance may act; false once its deadline passed or leadership ended. */
  mayAct(): boolean;
  /** Records an action not taken because mayAct() was false (metric and log). */
  refused(what: string): void;
}

/** StageReport is what a stage tells the status screen; every field optional. */
export interface StageReport {
  ordersSent?: number;
  fills?: number;
  rejects?: number;
  /** The risk-manager's refusals by reason code since it started (e.g. max_var99: 12). */
  rejectsByReason?: Record<string, number>;
  openOrders?: number;
  positions?: Array<{ symbol: string; qty: string; avgPrice: string; unrealizedPnl: string }>;
  realizedPnl?: string;
  unrealizedPnl?: string;
  circuitBreaker?: string;
  killSwitch?: boolean;
  detail?: string;
  [key: string]: unknown;
}

export interface RunningStage {
  /** stop ends the stage's work (no new orders), flushes its writes, and returns. */
  stop(): Promise<void>;
  /**
   * Rejects when the stage stopped itself for a fault of its own that a restart may clear (the
   * execution-engine's journal could not be written: a full or failing disk). The host then
   * releases the stage's leadership and fails the instance, so the process exits and its
   * supervisor restarts it with backoff; the restarted stage recovers once the cause is gone.
   */
  failed?: Promise<never>;
}

export interface StageDefinition {
  name: StageProcess;
  start(ctx: StageContext): Promise<RunningStage>;
}
