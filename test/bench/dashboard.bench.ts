/**
 * The dashboard with a long history, in headless Chromium (test/dashboard/browser.ts):
 *   - first paint: navigation to the first contentful paint, to the first-paint panels drawn
 *     (figures, equity and drawdown, positions, risk, fills) and to every panel drawn (orders,
 *     backtests, attribution too), on the page's own clock (performance marks), with N fills
 *     and M equity snapshots in Postgres; baseline: the same page with no data behind it (the
 *     login page of a dashboard with auth), same browser;
 *   - update latency: a fill committed in Postgres → its row in the page's blotter; baseline:
 *     a bare poll of the same table at the stream's interval, in this process.
 *
 * As in production, the measured dashboard is a restart: a first dashboard replays the seeded
 * fills once (its time is printed: what a database the dashboard has never seen costs) and
 * closes; the measured one starts on a pool of its own (nothing shared in memory) from what
 * the first left in the database. Before every load --between new fills are committed (the
 * trading goes on), so every load's attribution has fills to apply.
 *
 *   npm run bench -- dashboard                       # 100k fills, 1M snapshots
 *   node_modules/.bin/node test/bench/dashboard.bench.ts --fills 100000 --snapshots 100000 --updates 30
 *   (--screenshot FILE saves the loaded page)
 *
 * --previous DIR: the same page loads, alternating, against the dashboard of another checkout
 * (e.g. `git worktree add /tmp/prev <commit>`, node_modules linked) with its own database and
 * schema, seeded alike: old and new measured side by side under the same machine load.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { hashToken } from "../../services/dashboard/auth.ts";
import { attributionBook } from "../../services/dashboard/data.ts";
import { startDashboard } from "../../services/dashboard/server.ts";
import { launchChromium } from "../dashboard/browser.ts";
import { addFill, seedPipeline } from "../dashboard/fixture.ts";
import { withMigratedDatabase } from "../support/pg.ts";

const { values: args } = parseArgs({
  options: {
    fills: { type: "string", default: "100000" },
    snapshots: { type: "string", default: "1000000" },
    updates: { type: "string", default: "30" },
    loads: { type: "string", default: "5" },
    screenshot: { type: "string" },
    previous: { type: "string" },
    between: { type: "string", default: "5" },
  },
});
const FILLS = Number(args.fills);
const SNAPSHOTS = Number(args.snapshots);
const UPDATES = Number(args.updates);
const LOADS = Number(args.loads);
const BETWEEN = Number(args.between);
const POLL_MS = 200;
const SYMBOLS = ["AAPL", "MSFT", "XOM", "JPM"];
const SIDES = ["buy", "sell"];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const line = (label: string, xs: number[]) =>
  console.log(
    `${label.padEnd(44)} p50 ${pct(xs, 50).toFixed(0).padStart(5)} ms  p95 ${pct(xs, 95).toFixed(0).padStart(5)} ms  max ${Math.max(
      ...xs,
    )
      .toFixed(0)
      .padStart(5)} ms  (n=${xs.length})`,
  );

const db = await withMigratedDatabase();
const seeded = performance.now();
await seedPipeline(db.pool, { fills: FILLS, snapshots: SNAPSHOTS });
console.log(
  `seeded ${FILLS} fills, ${SNAPSHOTS} equity snapshots in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
);
// The dashboard's first start on this database replays every fill once; the measured one is
// a restart from the state it saved.
const firstStart = performance.now();
const first = await startDashboard({
  pool: db.pool,
  host: "127.0.0.1",
  port: 0,
  pipelineName: "bench",
});
await attributionBook(db.pool).idle();
const firstReplayMs = performance.now() - firstStart;
await first.close();
// As `tradepipe dashboard` makes it (bin/commands/dashboard.ts).
const measuredPool = new pg.Pool({ connectionString: db.url, max: 8 });
measuredPool.on("error", () => {});
const dashboard = await startDashboard({
  pool: measuredPool,
  host: "127.0.0.1",
  port: 0,
  pipelineName: "bench",
  pollMs: POLL_MS,
});
const empty = await startDashboard({
  pool: db.pool,
  host: "127.0.0.1",
  port: 0,
  pipelineName: "bench",
  auth: { tokens: [{ name: "x", role: "viewer", hash: hashToken("x") }] },
});
/** The dashboard of another checkout (--previous), on its own database seeded alike. */
async function previousDashboard(dir: string) {
  const root = resolve(dir);
  const support = await import(join(root, "test/support/pg.ts"));
  const fixture = await import(join(root, "test/dashboard/fixture.ts"));
  const server = await import(join(root, "services/dashboard/server.ts"));
  const prevDb = await support.withMigratedDatabase();
  await fixture.seedPipeline(prevDb.pool, { fills: FILLS, snapshots: SNAPSHOTS });
  const d = await server.startDashboard({
    pool: prevDb.pool,
    host: "127.0.0.1",
    port: 0,
    pipelineName: "bench",
    pollMs: POLL_MS,
  });
  return {
    url: d.url as string,
    pool: prevDb.pool as pg.Pool,
    close: async () => {
      await d.close();
      await prevDb.drop();
    },
  };
}

interface Loads {
  paint: number[];
  driver: number[];
  firstPanels: number[];
  allPanels: number[];
  apiTimes: Map<string, number[]>;
}
const loads = (): Loads => ({
  paint: [],
  driver: [],
  firstPanels: [],
  allPanels: [],
  apiTimes: new Map(),
});

const previous = args.previous ? await previousDashboard(args.previous) : undefined;
const chrome = await launchChromium();
try {
  const fcp = async (page: import("playwright-core").Page) =>
    page.evaluate(
      () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
    );
  /** loadOnce opens the page in a fresh context and records where its first load's time went. */
  const loadOnce = async (url: string, into: Loads, screenshot?: string) => {
    const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(url);
    await page.waitForSelector("body[data-attribution=true]", { timeout: 120_000 });
    into.driver.push(performance.now() - t0);
    into.paint.push(await fcp(page));
    // The page's own clock (navigation start → mark): the first-paint panels drawn, every
    // panel drawn, and each API request's duration as the browser saw it.
    const { marks, resources } = await page.evaluate(() => ({
      marks: performance.getEntriesByType("mark").map((m) => [m.name, m.startTime] as const),
      resources: performance
        .getEntriesByType("resource")
        .map((e) => ({ name: new URL(e.name).pathname, ms: e.duration })),
    }));
    const mark = new Map(marks);
    into.firstPanels.push(mark.get("panel:first-paint") ?? Number.NaN);
    into.allPanels.push(Math.max(...marks.map(([, t]) => t)));
    for (const r of resources)
      if (r.name.startsWith("/api/") && r.name !== "/api/stream")
        into.apiTimes.set(r.name, [...(into.apiTimes.get(r.name) ?? []), r.ms]);
    if (screenshot) await page.screenshot({ path: screenshot });
    await context.close();
  };
  const now = loads();
  const before = loads();
  const base: number[] = [];
  for (let i = 0; i < LOADS; i += 1) {
    // Alternate which goes first, so neither always meets a warmer machine.
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const prev of order) {
      if (prev && previous) {
        for (let k = 0; k < BETWEEN; k += 1)
          await addFill(previous.pool, SYMBOLS[k % 4], SIDES[k % 2]);
        await loadOnce(previous.url, before);
      }
      if (!prev) {
        for (let k = 0; k < BETWEEN; k += 1) await addFill(db.pool, SYMBOLS[k % 4], SIDES[k % 2]);
        await loadOnce(dashboard.url, now, i === 0 ? args.screenshot : undefined);
      }
    }
    const bctx = await chrome.browser.newContext();
    const bpage = await bctx.newPage();
    await bpage.goto(empty.url);
    await bpage.waitForSelector("#login:not([hidden])");
    base.push(await fcp(bpage));
    await bctx.close();
  }
  console.log(
    `\nthe dashboard's first start on this database (every fill replayed once): ${firstReplayMs.toFixed(0)} ms`,
  );
  console.log(
    `first paint, ${FILLS} fills and ${SNAPSHOTS} snapshots, a restarted dashboard, ${BETWEEN} new fills before each load:`,
  );
  line("  baseline: first paint of the page, no data", base);
  const report = (l: Loads, who: string) => {
    line(`  ${who}: first contentful paint`, l.paint);
    line(`  ${who}: first-paint panels drawn`, l.firstPanels);
    line(`  ${who}: every panel drawn`, l.allPanels);
    line("  (wall clock, test driver: goto → all drawn)", l.driver);
    for (const [name, xs] of [...l.apiTimes].sort()) line(`    request ${name}`, xs);
  };
  report(now, "dashboard");
  if (previous) report(before, "previous");

  const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(dashboard.url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 120_000 });
  const latency: number[] = [];
  for (let i = 0; i < UPDATES; i += 1) {
    const t0 = performance.now();
    const id = await addFill(db.pool, "AAPL", i % 2 ? "buy" : "sell");
    await page.waitForSelector(`#fills tr[data-fill-id="${id}"]`, { timeout: 30_000 });
    latency.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
  await context.close();
  const bare: number[] = [];
  let last = Number((await db.pool.query("SELECT max(id) AS id FROM fills")).rows[0].id);
  for (let i = 0; i < UPDATES; i += 1) {
    const t0 = performance.now();
    const id = await addFill(db.pool);
    // A bare poll at the stream's period, started at a random phase as the stream's is.
    await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
    for (;;) {
      const r = await db.pool.query("SELECT id FROM fills WHERE id > $1 ORDER BY id", [last]);
      if (r.rows.some((x) => Number(x.id) === id)) break;
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
    last = id;
    bare.push(performance.now() - t0);
  }
  console.log(`\nupdate latency (fill committed → shown), stream polls every ${POLL_MS} ms:`);
  line("  baseline: bare poll of fills, no browser", bare);
  line("  dashboard: row in the browser's blotter", latency);
} finally {
  await chrome.close();
  await previous?.close();
  await dashboard.close();
  await empty.close();
  await measuredPool.end();
  await db.drop();
}
