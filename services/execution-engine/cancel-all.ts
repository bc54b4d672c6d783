/**
 * cancel-all: serves operators' "cancel all open orders" requests (sql/0010: a row of
 * cancel_all_requests, written by tp_request_cancel_all with who and why, and a NOTIFY on
 * tradepipe_cancel_all). Every request not done yet is served in order, on its NOTIFY and after
 * every (re)connect of the LISTEN, so one made while no engine ran is served by the next leader:
 * the engine's core cancels each open order of this pipeline at the broker (CancelAllRequested;
 * nothing halts, new orders go on), then the request is stamped done with how many orders it
 * found open (tp_finish_cancel_all). A request is served once: a second NOTIFY finds it done.
 */
import type pg from "pg";
import { type ChannelListener, listenToChannel } from "../core/db/listen.ts";
import type { Logger } from "../core/telemetry/index.ts";

export const CANCEL_ALL_CHANNEL = "tradepipe_cancel_all";

export interface CancelAllOptions {
  log: Logger;
  /** cancelAll hands the request to the core and says how many orders were open. */
  cancelAll(requestedBy: string, reason: string): number;
}

export function serveCancelAllRequests(db: pg.Pool, opts: CancelAllOptions): ChannelListener {
  let draining: Promise<void> = Promise.resolve();
  const drain = async () => {
    const { rows } = await db.query<{ id: string; requested_by: string; reason: string | null }>(
      "SELECT id, requested_by, reason FROM cancel_all_requests WHERE done_at IS NULL ORDER BY id",
    );
    for (const r of rows) {
      const open = opts.cancelAll(r.requested_by, r.reason ?? "");
      await db.query("SELECT tp_finish_cancel_all($1, $2, NULL)", [r.id, open]);
      opts.log.warn(
        { request: r.id, by: r.requested_by, reason: r.reason, open },
        "cancel all open orders: requested at the broker",
      );
    }
  };
  // One drain at a time: a NOTIFY during a drain queues another pass, which finds it done.
  const serve = () => {
    draining = draining.then(drain).catch((err: Error) => {
      opts.log.error({ err: err.message }, "cancel-all requests could not be served");
    });
    return draining;
  };
  const listener = listenToChannel(db, CANCEL_ALL_CHANNEL, {
    onPayload: () => void serve(),
    onListening: serve,
    onLost: (err) =>
      opts.log.warn({ err: err.message }, "cancel-all LISTEN connection lost; reconnecting"),
  });
  return {
    async stop() {
      await listener.stop();
      await draining;
    },
  };
}
