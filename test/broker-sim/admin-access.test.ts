/**
 * The admin API's own credential: where the simulator runs beside a cluster's pods it takes
 * generated API keys, /admin/* takes a token the stages never hold (or is off), and a stall
 * is bounded. Over real HTTP.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DEV_KEYS, type Simulator, startSimulator } from "../../services/broker-sim/index.ts";

const KEYS = { keyId: "PKGENERATEDKEY000001", secretKey: "generated-secret-0000000000000000" };
const TOKEN = "admin-token-with-enough-entropy-000";

async function call(
  sim: Simulator,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<number> {
  const res = await fetch(`${sim.tradingUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

const keyHeaders = (k: { keyId: string; secretKey: string }) => ({
  "APCA-API-KEY-ID": k.keyId,
  "APCA-API-SECRET-KEY": k.secretKey,
});

describe("simulator admin access", () => {
  const sims: Simulator[] = [];
  after(async () => {
    for (const s of sims) await s.close();
  });

  test("token: the trading keys do not open /admin/*; the token does, and nothing else", async () => {
    const sim = await startSimulator({ keys: KEYS, admin: { kind: "token", token: TOKEN } });
    sims.push(sim);
    assert.equal(await call(sim, "/v2/account", keyHeaders(KEYS)), 200);
    assert.equal(await call(sim, "/v2/account", keyHeaders(DEV_KEYS)), 401, "published keys");
    assert.equal(await call(sim, "/admin/state", keyHeaders(KEYS)), 401, "a stage's keys");
    assert.equal(await call(sim, "/admin/state", { authorization: "Bearer wrong" }), 401);
    assert.equal(await call(sim, "/admin/state", { authorization: `Bearer ${TOKEN}` }), 200);
    assert.equal(await call(sim, "/v2/account", { authorization: `Bearer ${TOKEN}` }), 401);
  });

  test("off: /admin/* answers 404 whatever the credential", async () => {
    const sim = await startSimulator({ keys: KEYS, admin: { kind: "off" } });
    sims.push(sim);
    assert.equal(await call(sim, "/admin/state", keyHeaders(KEYS)), 404);
    assert.equal(await call(sim, "/v2/account", keyHeaders(KEYS)), 200);
  });

  test("a stall is bounded", async () => {
    const sim = await startSimulator({ admin: { kind: "keys" } });
    sims.push(sim);
    const h = keyHeaders(DEV_KEYS);
    const stall = (ms: number) =>
      call(sim, "/admin/streams", h, { action: "stall", kind: "all", ms });
    assert.equal(await stall(1e12), 422);
    assert.equal(await stall(300_001), 422);
    assert.equal(await stall(10), 200);
  });
});
