/**
 * Helpers for the Alpaca client's integration tests: a real simulator on a free port and a
 * client pointed at it.
 */
import diagnostics from "node:diagnostics_channel";
import type { RestClientOptions } from "../../services/alpaca-client/config.ts";
import { Credentials } from "../../services/alpaca-client/credentials.ts";
import { AlpacaHistoricalClient } from "../../services/alpaca-client/historical-client.ts";
import type { RequestEvent } from "../../services/alpaca-client/http-transport.ts";
import { AlpacaTradingClient } from "../../services/alpaca-client/trading-client.ts";
import { type SimulatorOptions, startSimulator } from "../../services/broker-sim/index.ts";

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

export interface Harness {
  sim: Sim;
  credentials: Credentials;
  trading: AlpacaTradingClient;
  close(): Promise<void>;
}

/** startHarness starts a simulator (always-open market, seeded) and a trading client on it. */
export async function startHarness(
  simOptions: SimulatorOptions = {},
  rest: Partial<RestClientOptions> = {},
): Promise<Harness> {
  const sim = await startSimulator({ seed: 7, ...simOptions });
  const credentials = new Credentials(sim.keys.keyId, sim.keys.secretKey, "test");
  const trading = new AlpacaTradingClient({
    tradingUrl: sim.tradingUrl,
    credentials,
    options: { backoff: { initialMs: 20, maxMs: 200 }, ...rest },
  });
  return {
    sim,
    credentials,
    trading,
    async close() {
      await trading.close();
      await sim.close();
    },
  };
}

export function historicalClient(h: Harness): AlpacaHistoricalClient {
  return new AlpacaHistoricalClient({ dataUrl: h.sim.dataRestUrl, credentials: h.credentials });
}

/** recordRequests collects every request attempt the clients publish until `stop()`. */
export function recordRequests(): { events: RequestEvent[]; stop(): void } {
  const events: RequestEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as RequestEvent);
  diagnostics.subscribe("tradepipe.alpaca.request", onEvent);
  return { events, stop: () => diagnostics.unsubscribe("tradepipe.alpaca.request", onEvent) };
}

/** simOrders returns the simulator's own record of orders (admin state), optionally filtered. */
export function simOrders(sim: Sim, clientOrderId?: string): Array<Record<string, unknown>> {
  const orders = sim.admin.state().orders as Array<Record<string, unknown>>;
  return clientOrderId === undefined
    ? orders
    : orders.filter((o) => o.client_order_id === clientOrderId);
}

/** simOrderRequests lists the order POST/PATCH requests that reached the simulator's handlers. */
export function simOrderRequests(
  sim: Sim,
  clientOrderId: string,
): Array<{ kind: string; status: number; order_id: string | null }> {
  const all = (sim.admin.state().order_requests ?? []) as Array<{
    kind: string;
    client_order_id: string | null;
    status: number;
    order_id: string | null;
  }>;
  return all.filter((r) => r.client_order_id === clientOrderId);
}

/** waitFor polls `check` until it returns a value (not undefined) or the timeout passes. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
