/**
 * pipeline-sim: the broker simulator in its own process for the pipeline benchmark, so the
 * process under measurement does none of the simulator's work. Driven over the IPC channel:
 *   → { type: "quote", symbol, bid, ask }   forces a quote (one market-data frame per call)
 *   → { type: "orders" }                    asks how many orders the simulator has accepted
 *   → { type: "advance", ms }               moves the manual clock (quotes, trades, book deltas)
 *   ← { type: "ready", url, keyId, secretKey } once listening; { type: "done", orders } per request
 */
import { startSimulator } from "../../../services/broker-sim/index.ts";

const options = JSON.parse(process.argv[2] ?? "{}");
const sim = await startSimulator({ clock: "manual", partialFillProbability: 0, ...options });
const send = (m: object) => process.send?.(m);
process.on(
  "message",
  (m: { type: string; symbol?: string; bid?: string; ask?: string; ms?: number }) => {
    if (m.type === "quote") {
      sim.admin.setQuote(m.symbol!, m.bid!, m.ask!);
      send({ type: "done" });
    } else if (m.type === "orders") {
      const state = sim.admin.state() as { orders: unknown[] };
      send({ type: "done", orders: state.orders.length });
    } else if (m.type === "advance") {
      sim.admin.advance(m.ms!);
      send({ type: "done" });
    } else if (m.type === "stop") {
      void sim.close().then(() => process.exit(0));
    }
  },
);
process.on("disconnect", () => void sim.close().then(() => process.exit(0)));
send({ type: "ready", url: sim.tradingUrl, keyId: sim.keys.keyId, secretKey: sim.keys.secretKey });
