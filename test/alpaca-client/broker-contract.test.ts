/**
 * The broker contract run against AlpacaBroker (the product's Alpaca client) over the simulator.
 */
import { AlpacaBroker } from "../../services/alpaca-client/broker.ts";
import { runBrokerContract } from "./broker-contract.ts";
import { startHarness } from "./support.ts";

runBrokerContract({
  name: "AlpacaBroker over broker-sim",
  async newBroker() {
    const h = await startHarness(
      { symbols: ["AAPL"], partialFillProbability: 0, rateLimitPerMin: 100_000, clock: "manual" },
      { rateLimitPerMinute: 100_000, rateLimitBurst: 1_000 },
    );
    return {
      broker: new AlpacaBroker(h.trading),
      setQuote: (symbol, bid, ask) => h.sim.admin.setQuote(symbol, bid, ask),
      close: () => h.close(),
    };
  },
});
