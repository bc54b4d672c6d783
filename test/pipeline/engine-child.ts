/**
 * engine-child: one execution-engine in a process of its own, as the crash-safety tests need
 * it (they kill it with SIGKILL through TRADEPIPE_EXECUTION_FAULT, or it exits when done).
 * It leads through host.ts like any instance, then publishes the intents named in
 * TP_CHILD_SIGNALS (comma-separated signal ids, AAPL buys of 5) one at a time, each once the one
 * before it filled, and prints `filled <client_order_id>` for each.
 *
 * Environment: TP_CHILD_DATABASE_URL, TP_CHILD_TRADING_URL (simulator or a proxy before it),
 * TP_CHILD_SIGNALS, TRADEPIPE_JOURNAL_DIR, and optionally TRADEPIPE_EXECUTION_FAULT.
 */
import pg from "pg";
import { DEV_KEYS } from "../../services/broker-sim/index.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import { OrderEvent } from "../../services/core/messages/index.ts";
import { startStageInstance } from "../../services/pipeline/host.ts";
import { engineHostDeps, publishIntent, publishQuote, updatesOf } from "./execution-support.ts";

const need = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`engine-child: ${name} is not set`);
  return v;
};
const pool = new pg.Pool({ connectionString: need("TP_CHILD_DATABASE_URL"), max: 6 });
pool.on("error", () => {});
const abort = new AbortController();
const deps = await engineHostDeps({
  sim: { tradingUrl: need("TP_CHILD_TRADING_URL"), keys: DEV_KEYS },
  pool,
  signal: abort.signal,
  name: "child",
});
const instance = await startStageInstance("execution-engine", deps);
if (!instance) throw new Error("engine-child: the engine did not start");
const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`engine-child: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
await until(() => instance.readiness.report().ready, "ready");
console.log("ready");
const seen: BusMessage[] = [];
deps.bus.subscribe(["order.update/*"], (m) => seen.push(m));
publishQuote(deps.bus, "AAPL", "190.00", "190.02");
for (const signalId of need("TP_CHILD_SIGNALS").split(",")) {
  const id = publishIntent(deps.bus, { signalId, decisionPrice: "190.01" });
  await until(() => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL), `fill of ${id}`);
  console.log(`filled ${id}`);
}
await instance.stop();
abort.abort();
await deps.bus.close();
await pool.end();
console.log("done");
