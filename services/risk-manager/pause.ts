/**
 * pause: "pause new orders" from outside the risk manager (the dashboard, `tradepipe pause`).
 * The risk_state paused* columns are the truth; tp_set_pause (sql/0010) writes them and NOTIFYs
 * channel tradepipe_pause. The risk manager applies a pause as its existing halt of all trading
 * (orders that grow a position are refused, reducing orders pass, working orders stay), with a
 * reason starting "paused by". Resuming lifts that halt only: a halt set for another cause
 * (a drawdown alert, a HALT on the bus) before or after stays until its own RESUME.
 */
import type pg from "pg";
import { listenToChannel } from "../core/db/listen.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { ControlReceived, RiskState } from "./core/index.ts";

export const PAUSE_CHANNEL = "tradepipe_pause";
export const PAUSE_REASON_PREFIX = "paused by ";

export interface PauseRow {
  paused: boolean;
  reason: string;
  changedBy: string;
}

/** parsePauseNotification reads tp_set_pause's payload; null when it is not one. */
export function parsePauseNotification(payload: string | undefined): PauseRow | null {
  try {
    const p = JSON.parse(payload ?? "") as {
      paused?: unknown;
      reason?: unknown;
      changedBy?: unknown;
    };
    if (typeof p.paused !== "boolean") return null;
    return {
      paused: p.paused,
      reason: typeof p.reason === "string" ? p.reason : "",
      changedBy: typeof p.changedBy === "string" ? p.changedBy : "",
    };
  } catch {
    return null;
  }
}

export async function loadPause(db: pg.Pool): Promise<PauseRow> {
  const { rows } = await db.query<{
    paused: boolean;
    paused_reason: string | null;
    paused_changed_by: string | null;
  }>("SELECT paused, paused_reason, paused_changed_by FROM risk_state WHERE id = 1");
  const r = rows[0];
  if (r === undefined) throw new Error("risk_state has no row (id = 1): is the database migrated?");
  return { paused: r.paused, reason: r.paused_reason ?? "", changedBy: r.paused_changed_by ?? "" };
}

/**
 * pauseEvent: the halt or resume that brings the core's state in line with the pause row, or
 * null when it already is (so a repeated NOTIFY or re-read changes nothing).
 */
export function pauseEvent(
  state: RiskState,
  row: PauseRow,
  timeNs: bigint,
): ControlReceived | null {
  const pausedHalt = state.halt.all && state.halt.reason.startsWith(PAUSE_REASON_PREFIX);
  if (row.paused && !state.halt.all) {
    return {
      type: "ControlReceived",
      timeNs,
      command: "halt",
      requestedBy: row.changedBy,
      reason: `${PAUSE_REASON_PREFIX}${row.changedBy}${row.reason ? `: ${row.reason}` : ""}`,
    };
  }
  if (!row.paused && pausedHalt) {
    return {
      type: "ControlReceived",
      timeNs,
      command: "resume",
      requestedBy: row.changedBy,
      reason: row.reason || "resumed",
    };
  }
  return null;
}

export interface PauseListenerOptions {
  log: Logger;
  onChange(row: PauseRow): void;
  onListening(): Promise<void>;
  onLost(err: Error): void;
}

export function listenForPause(db: pg.Pool, opts: PauseListenerOptions) {
  return listenToChannel(db, PAUSE_CHANNEL, {
    onPayload: (payload) => {
      const row = parsePauseNotification(payload);
      if (row === null) {
        opts.log.warn({ payload }, "unreadable pause notification ignored");
        return;
      }
      opts.onChange(row);
    },
    onListening: opts.onListening,
    onLost: opts.onLost,
  });
}
