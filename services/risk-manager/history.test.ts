/**
 * The VaR history loader against the real simulator over HTTP: closes come split-adjusted, so a
 * split does not read as a −90% day; the simulator serves raw bars (Alpaca's default) otherwise.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Credentials } from "../alpaca-client/credentials.ts";
import { startSimulator } from "../broker-sim/index.ts";
import { toNumber } from "../core/money.ts";
import { simulatorEndpoints } from "../pipeline/broker-connection.ts";
import type { StageContext } from "../pipeline/context.ts";
import { loadDailyCloses } from "./history.ts";

const START = "2026-03-04T15:00:00Z"; // 10:00 in New York; a day of seeded minute bars before it
const SPLIT_AT = "2026-03-04T05:00:00Z"; // midnight in New York: the split day starts
const LATER_NS = BigInt(Date.parse("2026-03-06T15:00:00Z")) * 1_000_000n;

let sim: Awaited<ReturnType<typeof startSimulator>>;
let ctx: StageContext;
before(async () => {
  sim = await startSimulator({
    port: 0,
    clock: "manual",
    startTime: START,
    symbols: { NVDA: 100 },
    rateLimitPerMin: 100_000,
  });
  sim.admin.split("NVDA", "10", SPLIT_AT);
  ctx = {
    broker: {
      endpoints: simulatorEndpoints(sim.tradingUrl, "iex"),
      credentials: new Credentials(sim.keys.keyId, sim.keys.secretKey, "test"),
    },
    pipeline: { spec: { symbols: ["NVDA"], broker: { dataFeed: "iex" } } },
  } as unknown as StageContext;
});
after(() => sim.close());

test("daily closes are loaded split-adjusted: a 10:1 split is not a -90% day", async () => {
  const closes = (await loadDailyCloses(ctx, 252, LATER_NS)).get("NVDA") ?? [];
  assert.equal(closes.length, 2, "the day before the split and the split day");
  const [before, after] = closes.map((c) => toNumber(c.close));
  assert.ok(Math.abs(after! / before! - 1) < 0.1, `adjusted return ${after! / before! - 1}`);
  assert.equal(closes[1]!.day - closes[0]!.day, 1);
});

test("today's bar is still forming and is not taken as a close", async () => {
  const today = BigInt(Date.parse(START)) * 1_000_000n;
  const closes = (await loadDailyCloses(ctx, 252, today)).get("NVDA") ?? [];
  assert.equal(closes.length, 1);
});

test("the simulator serves raw bars by default and adjusted ones on request", async () => {
  const url = (adjustment?: string) =>
    `${sim.tradingUrl}/v2/stocks/NVDA/bars?timeframe=1Day&start=2026-03-01T00:00:00Z${adjustment ? `&adjustment=${adjustment}` : ""}`;
  const get = async (adjustment?: string) => {
    const r = await fetch(url(adjustment), {
      headers: { "APCA-API-KEY-ID": sim.keys.keyId, "APCA-API-SECRET-KEY": sim.keys.secretKey },
    });
    return { status: r.status, body: (await r.json()) as { bars: { c: number }[] } };
  };
  const raw = (await get()).body.bars.map((b) => b.c);
  const split = (await get("split")).body.bars.map((b) => b.c);
  assert.equal(raw.length, 2);
  assert.ok(raw[1]! / raw[0]! < 0.15, `raw: the split reads as a ${raw[1]! / raw[0]! - 1} day`);
  assert.ok(Math.abs(split[1]! / split[0]! - 1) < 0.1);
  assert.deepEqual(
    (await get("all")).body.bars.map((b) => b.c),
    split,
  );
  assert.deepEqual(
    (await get("dividend")).body.bars.map((b) => b.c),
    raw,
  );
  const bad = await get("sideways");
  assert.equal(bad.status, 400);
});
