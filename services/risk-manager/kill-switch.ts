/**
 * kill-switch: the two ways a kill switch change reaches a running risk-manager besides the
 * spec. The database row is the one source of truth (tp_set_kill_switch writes it and NOTIFYs
 * channel tradepipe_kill_switch):
 * - listenForKillSwitch LISTENs on a dedicated connection and reports every change at once; when
 *   the connection breaks it reconnects and re-reads the row (a NOTIFY sent meanwhile is lost);
 * - killSwitchControlRoutes serves `POST /kill-switch` ({engaged, reason}) on the stage's
 *   authenticated control listener (services/core/control) by calling tp_set_kill_switch too,
 *   recording the caller the listener authenticated; `GET /kill-switch` is on both listeners.
 */
import type pg from "pg";
import { type ControlHandler, readJsonBody, sendJson } from "../core/control/server.ts";
import { listenToChannel } from "../core/db/listen.ts";
import type { RouteHandler } from "../core/health/index.ts";
import type { Logger } from "../core/telemetry/index.ts";
import type { KillSwitchRow } from "./store.ts";

export const KILL_SWITCH_CHANNEL = "tradepipe_kill_switch";

export interface KillSwitchListener {
  stop(): Promise<void>;
}

export interface KillSwitchListenerOptions {
  log: Logger;
  /** onChange receives each NOTIFY payload. */
  onChange(row: KillSwitchRow): void;
  /** onListening runs after every (re)connect: re-read the row, changes may have been missed. */
  onListening(): Promise<void>;
  /** onLost runs when the connection broke (trading keeps the last known state meanwhile). */
  onLost(err: Error): void;
}

/** parseNotification reads tp_set_kill_switch's payload; null when it is not one. */
export function parseNotification(payload: string | undefined): KillSwitchRow | null {
  try {
    const p = JSON.parse(payload ?? "") as {
      engaged?: unknown;
      reason?: unknown;
      changedBy?: unknown;
      changedAt?: unknown;
    };
    if (typeof p.engaged !== "boolean") return null;
    const at = typeof p.changedAt === "string" ? Date.parse(p.changedAt) : Number.NaN;
    return {
      engaged: p.engaged,
      reason: typeof p.reason === "string" ? p.reason : "",
      changedBy: typeof p.changedBy === "string" ? p.changedBy : "",
      changedAtNs: Number.isNaN(at) ? 0n : BigInt(at) * 1_000_000n,
    };
  } catch {
    return null;
  }
}

export function listenForKillSwitch(
  db: pg.Pool,
  opts: KillSwitchListenerOptions,
): KillSwitchListener {
  return listenToChannel(db, KILL_SWITCH_CHANNEL, {
    onPayload: (payload) => {
      const row = parseNotification(payload);
      if (row === null) {
        opts.log.warn({ payload }, "unreadable kill switch notification ignored");
        return;
      }
      opts.onChange(row);
    },
    onListening: opts.onListening,
    onLost: opts.onLost,
  });
}

const view = (r: KillSwitchRow) => ({
  engaged: r.engaged,
  reason: r.reason,
  changedBy: r.changedBy,
  changedAt:
    r.changedAtNs === 0n ? null : new Date(Number(r.changedAtNs / 1_000_000n)).toISOString(),
});

export interface KillSwitchRouteDeps {
  set(engaged: boolean, reason: string, changedBy: string): Promise<KillSwitchRow>;
  current(): KillSwitchRow;
  /** True while the spec says `killSwitch: true`: a release is refused, the spec wins. */
  specEngaged(): boolean;
}

/** killSwitchStatusRoute: `GET /kill-switch` for the health server (read-only). */
export function killSwitchStatusRoute(deps: KillSwitchRouteDeps): Record<string, RouteHandler> {
  return { "GET /kill-switch": (_req, res) => sendJson(res, 200, view(deps.current())) };
}

/**
 * killSwitchControlRoutes: `POST /kill-switch` {engaged: boolean, reason?: string} and `GET`, for
 * the control listener only. The change is recorded as made by the authenticated principal;
 * a `requestedBy` in the body is ignored.
 */
export function killSwitchControlRoutes(deps: KillSwitchRouteDeps): Record<string, ControlHandler> {
  return {
    "GET /kill-switch": (_req, res) => sendJson(res, 200, view(deps.current())),
    "POST /kill-switch": async (req, res, principal) => {
      let body: unknown;
      try {
        body = await readJsonBody(req);
      } catch (err) {
        return sendJson(res, 400, { error: `body: not valid JSON (${(err as Error).message})` });
      }
      const b = (body ?? {}) as { engaged?: unknown; reason?: unknown };
      if (typeof body !== "object" || typeof b.engaged !== "boolean") {
        return sendJson(res, 400, {
          error: 'body.engaged: must be true or false, e.g. {"engaged": true, "reason": "…"}',
        });
      }
      if (b.reason !== undefined && typeof b.reason !== "string") {
        return sendJson(res, 400, { error: "body.reason: must be a string" });
      }
      if (!b.engaged && deps.specEngaged()) {
        return sendJson(res, 409, {
          error: "spec.killSwitch is true: set it to false in the pipeline spec to release",
        });
      }
      const reason =
        b.reason ?? (b.engaged ? "engaged over the control API" : "released over the control API");
      const row = await deps.set(b.engaged, reason, principal.name);
      return sendJson(res, 200, view(row));
    },
  };
}
