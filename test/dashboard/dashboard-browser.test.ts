/**
 * The dashboard in a real browser (Debian's headless Chromium): the page shows the database's
 * figures, a new fill arrives over the stream, a dropped stream resumes without gaps or
 * duplicates, the kill switch's flows, a phone-sized viewport, accessibility (axe-core, WCAG 2.1
 * A/AA) and no Content-Security-Policy violation anywhere.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type Dashboard, startDashboard } from "../../services/dashboard/server.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { launchChromium } from "./browser.ts";
import {
  addFill,
  dashboardOn,
  listenFor,
  seedPipeline,
  TEST_TOKENS,
  writeBacktestRun,
} from "./fixture.ts";
import type { PageForm, PageGlobals } from "./page-globals.ts";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let db: TestDatabase;
let open: Dashboard;
let secured: Dashboard;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
const cspViolations: string[] = [];
const pages: Page[] = [];

before(async () => {
  db = await withMigratedDatabase();
  await seedPipeline(db.pool, { fills: 300, snapshots: 2000 });
  open = await dashboardOn(db.pool, { pollMs: 100 });
  secured = await dashboardOn(db.pool, { auth: { tokens: TEST_TOKENS } });
  chrome = await launchChromium();
  browser = chrome.browser;
});
after(async () => {
  for (const p of pages) assert.equal(p.isClosed(), p.isClosed()); // pages close with the browser
  await chrome?.close();
  await open?.close();
  await secured?.close();
  await db?.drop();
  assert.deepEqual(cspViolations, [], "no Content-Security-Policy violation fires");
});

/** newPage opens a page that reports CSP violations and blocks any request off this machine. */
async function newPage(url: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  pages.push(page);
  await page.exposeFunction("reportCspViolation", (text: string) => cspViolations.push(text));
  await page.addInitScript(() => {
    const page = globalThis as unknown as PageGlobals;
    page.document.addEventListener("securitypolicyviolation", (e) => {
      page.reportCspViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  // Every asset is served by the dashboard: anything else is refused and would show as missing.
  await page.route(
    (u) => u.hostname !== "127.0.0.1",
    (route) => route.abort(),
  );
  await page.goto(url);
  return page;
}

async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
}

test("the page's figures are the database's", async () => {
  const page = await newPage(open.url);
  await ready(page);
  const db2 = (
    await db.pool.query(
      `SELECT round(sum(realized_pnl), 2)::text r, round(sum(unrealized_pnl), 2)::text u,
              (SELECT round(sum(commission), 2)::text FROM fills) f,
              (SELECT count(*)::text FROM fills) n FROM positions`,
    )
  ).rows[0];
  assert.equal(await page.textContent("#fig-realized"), db2.r);
  assert.equal(await page.textContent("#fig-unrealized"), db2.u);
  assert.equal(await page.textContent("#fig-fees"), db2.f);
  assert.equal(await page.textContent("#fig-fills"), db2.n);
  // Buying power (the broker's, as the tracker last recorded it) and the risk manager's VaR.
  const recorded = (
    await db.pool.query(
      `SELECT (SELECT round(buying_power, 2)::text FROM portfolio_snapshots
                WHERE buying_power IS NOT NULL ORDER BY snapshot_at DESC LIMIT 1) bp,
              (SELECT value_at_risk_99::float8 FROM risk_state) var99`,
    )
  ).rows[0];
  assert.equal(await page.textContent("#fig-buying-power"), recorded.bp);
  const varRow = await page.$$eval("#risk tbody tr", (trs) =>
    trs
      .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? ""))
      .find((cells) => cells[0]?.startsWith("VaR")),
  );
  assert.equal(varRow?.[1], `${Number(recorded.var99).toFixed(2)} USD`);
  const open2 = await db.pool.query("SELECT symbol FROM positions WHERE qty <> 0 ORDER BY symbol");
  const shown = await page.$$eval("#positions tbody tr td:first-child", (tds) =>
    tds.map((t) => t.textContent),
  );
  assert.deepEqual(
    shown,
    open2.rows.map((r) => r.symbol),
  );
  // Every chart has a text alternative: a name, a caption with its figures; the equity
  // chart a table as well (axe does not judge what a chart shows).
  const charts = await page.$$eval("figure", (figs) =>
    figs
      .filter((f) => !f.closest("[hidden]") && f.querySelector("svg"))
      .map((f) => ({
        name: f.querySelector("svg")?.getAttribute("aria-label") ?? "",
        role: f.querySelector("svg")?.getAttribute("role") ?? "",
        caption: f.querySelector("figcaption")?.textContent ?? "",
      })),
  );
  assert.equal(charts.length, 2, "the equity and drawdown charts");
  for (const c of charts) {
    assert.equal(c.role, "img");
    assert.ok(c.name.length > 0 && c.caption.length > 0, JSON.stringify(c));
  }
  assert.ok((await page.$$("#equity-table tbody tr")).length > 0, "the equity as a table");
  // The attribution's rows add up to its total row, as shown.
  await page.waitForSelector("body[data-attribution=true]");
  const cells = await page.$$eval("#attribution tbody tr", (trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
  );
  const totalRow = cells.pop()!;
  const cents = (s: string) => Math.round(Number(s) * 100);
  for (let col = 0; col < 4; col += 1) {
    assert.equal(
      cells.reduce((s, r) => s + cents(r[col + 1]!), 0),
      cents(totalRow[col]!),
    );
  }
  await page.context().close();
});

test("a backtest drawn over the live equity of its period: selectable, its gap flagged as the server measured it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tp-bt-"));
  const period = (
    await db.pool.query(
      `SELECT (extract(epoch FROM min(snapshot_at)) * 1000)::float8 AS t0,
              (extract(epoch FROM max(snapshot_at)) * 1000)::float8 AS t1 FROM portfolio_snapshots`,
    )
  ).rows[0];
  // A backtest of the same period from 50,000 that ends 5% up: far from the live curve.
  const times = Array.from({ length: 200 }, (_, i) =>
    Math.ceil(period.t0 + ((period.t1 - period.t0 - 1) * i) / 199),
  );
  writeBacktestRun(
    dir,
    "same-period",
    times,
    times.map((_, i) => 50_000 * (1 + (0.05 * i) / 199)),
  );
  const withRuns = await dashboardOn(db.pool, { backtestDir: dir });
  try {
    const page = await newPage(withRuns.url);
    await ready(page);
    await page.waitForSelector('#overlay-run option[value="same-period"]', { state: "attached" });
    assert.equal(await page.isHidden("#overlay"), true, "no overlay until one is chosen");
    await page.selectOption("#overlay-run", "same-period");
    await page.waitForSelector("#overlay-caption[data-diverged]");
    const fromServer = (await (
      await fetch(`${withRuns.url}api/backtests/same-period/overlay?width=600`)
    ).json()) as { diverged: boolean; maxGapBps: number; table: unknown[] };
    assert.equal(fromServer.diverged, true);
    assert.equal(
      await page.getAttribute("#overlay-caption", "data-diverged"),
      String(fromServer.diverged),
    );
    const caption = (await page.textContent("#overlay-caption")) ?? "";
    assert.match(caption, /Diverged\./);
    assert.match(caption, new RegExp(`Largest gap ${fromServer.maxGapBps.toFixed(0)} bps`));
    assert.equal(await page.locator("#overlay-chart polyline").count(), 2, "live and backtest");
    assert.equal(await page.locator("#overlay-table tbody tr").count(), fromServer.table.length);
    await page.selectOption("#overlay-run", "");
    assert.equal(await page.isHidden("#overlay"), true);
    await page.context().close();
  } finally {
    await withRuns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a new fill appears on the page", async () => {
  const page = await newPage(open.url);
  await ready(page);
  const started = performance.now();
  const id = await addFill(db.pool, "MSFT", "sell");
  await page.waitForSelector(`#fills tr[data-fill-id="${id}"]`, { timeout: 15_000 });
  const ms = performance.now() - started;
  process.stdout.write(`# fill ${id} on the page ${ms.toFixed(0)} ms after its insert\n`);
  await page.context().close();
});

test("a dropped stream resumes without gaps or duplicates", async () => {
  const page = await newPage(open.url);
  await ready(page);
  const before = await addFill(db.pool, "AAPL", "buy");
  await page.waitForSelector(`#fills tr[data-fill-id="${before}"]`);
  open.dropStreams();
  const missed: number[] = [];
  for (let i = 0; i < 5; i += 1) missed.push(await addFill(db.pool, "XOM", i % 2 ? "buy" : "sell"));
  for (const id of missed)
    await page.waitForSelector(`#fills tr[data-fill-id="${id}"]`, { timeout: 15_000 });
  const ids = await page.$$eval("#fills tbody tr", (trs) =>
    trs.map((tr) => tr.getAttribute("data-fill-id")),
  );
  assert.equal(new Set(ids).size, ids.length, "no fill is shown twice");
  const expected = (await db.pool.query("SELECT id FROM fills ORDER BY id DESC LIMIT 6")).rows.map(
    (r) => String(r.id),
  );
  assert.deepEqual(ids.slice(0, 6), expected);
  await page.context().close();
});

test("the stale-data banner shows when the stream stops", async () => {
  const quiet = await startDashboard({
    pool: db.pool,
    host: "127.0.0.1",
    port: 0,
    pipelineName: "alpha",
    heartbeatMs: 400,
  });
  const page = await newPage(quiet.url);
  await ready(page);
  assert.equal(await page.isHidden("#stale"), true);
  await quiet.close(); // the stream ends and cannot come back
  await page.waitForSelector("#stale", { state: "visible", timeout: 15_000 });
  await page.context().close();
});

async function loginPage(token: string): Promise<Page> {
  const page = await newPage(secured.url);
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await ready(page);
  return page;
}

test("kill switch: an operator confirms by naming the pipeline; a double submit is one action", async () => {
  const listener = await listenFor(db.url, "tradepipe_kill_switch");
  const notices = listener.notices;
  try {
    const page = await loginPage("operator-token-456");
    await page.click("#kill-start");
    await page.fill("#kill-pipeline", "wrong-name");
    await page.fill("#kill-reason", "browser test");
    await page.click("#kill-submit");
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).document
        .getElementById("kill-error")
        ?.textContent?.includes("alpha"),
    );
    assert.equal(
      (await db.pool.query("SELECT kill_switch_engaged FROM risk_state")).rows[0]
        .kill_switch_engaged,
      false,
    );
    await page.fill("#kill-pipeline", "alpha");
    // Two submits of the same confirmation, as a double click would send them.
    await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const form = document.getElementById("kill-confirm") as PageForm;
      form.requestSubmit();
      form.requestSubmit();
    });
    await page.waitForSelector("#kill-state[data-engaged=true]", { timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notices.length, 1, `one change, got ${notices.length}`);
    const row = (await db.pool.query("SELECT * FROM risk_state")).rows[0];
    assert.equal(row.kill_switch_changed_by, "dashboard:olga");
    assert.equal(row.kill_switch_reason, "browser test");
    await db.pool.query("SELECT tp_set_kill_switch(false, null, 'test')");
    await page.context().close();
  } finally {
    await listener.end();
  }
});

/**
 * postTextFormFrom: another site's page posts a text/plain form at `target` whose body reads as
 * JSON (`<name>="}`), the classic way around a JSON-only endpoint.
 */
async function postTextFormFrom(evil: Page, target: string, jsonStart: string): Promise<void> {
  await evil.evaluate(
    ([url, name]) => {
      const { document } = globalThis as unknown as PageGlobals;
      const form = document.createElement("form");
      form.method = "POST";
      form.action = url!;
      form.enctype = "text/plain";
      const input = document.createElement("input");
      input.name = name!;
      input.value = '"}';
      form.append(input);
      document.body.append(form);
      form.submit();
    },
    [target, jsonStart],
  );
}

test("kill switch: a viewer has no button and is refused; a cross-origin POST is refused", async () => {
  const page = await loginPage(
    "viewer-token-456".replace("456", "123").replace("viewer-token-123", "viewer-token-123"),
  );
  assert.equal(await page.isHidden("#kill-start"), true);
  const status = await page.evaluate(async () => {
    const res = await fetch("/api/kill-switch", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Tradepipe-Confirm": "kill-switch" },
      body: JSON.stringify({
        engaged: true,
        reason: "x",
        confirmPipeline: "alpha",
        requestId: "viewer-try-1",
      }),
    });
    return res.status;
  });
  assert.equal(status, 403);
  await page.context().close();

  // An operator logged in on the dashboard visits another site, which posts a form at it.
  const operator = await loginPage("operator-token-456");
  const evil = await operator.context().newPage();
  await evil.goto(open.url); // another origin (another port)
  await postTextFormFrom(
    evil,
    `${secured.url}api/kill-switch`,
    '{"engaged":true,"confirmPipeline":"alpha","requestId":"evil-000001","reason":"x","a":"',
  );
  await evil.waitForLoadState("load");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(
    (await db.pool.query("SELECT kill_switch_engaged FROM risk_state")).rows[0].kill_switch_engaged,
    false,
  );
  await operator.context().close();
});

/** confirmTwice fills the confirmation and submits it twice, as a double click would. */
async function confirmTwice(page: Page, reason: string): Promise<void> {
  await page.fill("#kill-pipeline", "alpha");
  await page.fill("#kill-reason", reason);
  await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const form = document.getElementById("kill-confirm") as PageForm;
    form.requestSubmit();
    form.requestSubmit();
  });
}

test("pause and cancel-all: two-step, one action per confirmation, the header says Paused / Trading", async () => {
  const listener = await listenFor(db.url, "tradepipe_pause");
  const notices = listener.notices;
  try {
    const page = await loginPage("operator-token-456");
    await page.waitForSelector("#trading-state");
    assert.equal(await page.textContent("#trading-state"), "Trading");
    await page.click("#pause-start");
    assert.match((await page.textContent("#kill-question")) ?? "", /open orders keep working/);
    await confirmTwice(page, "news at noon");
    await page.waitForSelector("#pause-state[data-paused=true]", { timeout: 15_000 });
    assert.equal(await page.textContent("#trading-state"), "Paused");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notices.length, 1, `one change, got ${notices.length}`);
    const row = (await db.pool.query("SELECT * FROM risk_state")).rows[0];
    assert.equal(row.paused_changed_by, "dashboard:olga");
    assert.equal(row.paused_reason, "news at noon");

    await page.click("#resume-start");
    await confirmTwice(page, "");
    await page.waitForSelector("#pause-state[data-paused=false]", { timeout: 15_000 });
    assert.equal(await page.textContent("#trading-state"), "Trading");

    const before = (await db.pool.query("SELECT count(*)::int AS n FROM cancel_all_requests"))
      .rows[0].n;
    await page.click("#cancel-all-start");
    assert.match((await page.textContent("#kill-question")) ?? "", /Trading goes on/);
    await confirmTwice(page, "stale quotes");
    await page.waitForSelector("#kill-confirm", { state: "hidden", timeout: 15_000 });
    const requests = (
      await db.pool.query("SELECT * FROM cancel_all_requests ORDER BY id OFFSET $1", [before])
    ).rows;
    assert.equal(requests.length, 1, "one request per confirmation");
    assert.equal(requests[0].requested_by, "dashboard:olga");
    assert.equal(
      (await db.pool.query("SELECT kill_switch_engaged FROM risk_state")).rows[0]
        .kill_switch_engaged,
      false,
      "cancel-all is no kill switch",
    );
    await page.context().close();
  } finally {
    await listener.end();
    await db.pool.query("SELECT tp_set_pause(false, null, 'test')"); // whatever happened above
  }
});

test("pause and cancel-all: a viewer has no buttons and is refused; a cross-origin form changes nothing", async () => {
  const page = await loginPage("viewer-token-123");
  assert.equal(await page.isHidden("#pause-start"), true);
  assert.equal(await page.isHidden("#cancel-all-start"), true);
  const statuses = await page.evaluate(async () => {
    const post = async (action: string, body: object) =>
      (
        await fetch(`/api/${action}`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Tradepipe-Confirm": action },
          body: JSON.stringify({
            ...body,
            reason: "x",
            confirmPipeline: "alpha",
            requestId: "viewer-try-2",
          }),
        })
      ).status;
    return [await post("pause", { paused: true }), await post("cancel-all", {})];
  });
  assert.deepEqual(statuses, [403, 403]);
  await page.context().close();

  const operator = await loginPage("operator-token-456");
  const evil = await operator.context().newPage();
  await evil.goto(open.url);
  await postTextFormFrom(
    evil,
    `${secured.url}api/pause`,
    '{"paused":true,"confirmPipeline":"alpha","requestId":"evil-000002","reason":"x","a":"',
  );
  await evil.waitForLoadState("load");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await db.pool.query("SELECT paused FROM risk_state")).rows[0].paused, false);
  await operator.context().close();
});

test("a 390×844 viewport has no horizontal scroll", async () => {
  const page = await newPage(open.url, { width: 390, height: 844 });
  await ready(page);
  const { scroll, client } = await page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    return {
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    };
  });
  assert.ok(scroll <= client, `page is ${scroll}px wide in a ${client}px viewport`);
  await page.context().close();
});

test("axe-core finds no WCAG 2.1 A/AA violation, logged in or not", async () => {
  for (const [url, label] of [
    [open.url, "dashboard"],
    [secured.url, "login"],
  ] as const) {
    const page = await newPage(url);
    if (label === "dashboard") {
      await ready(page);
      await page.waitForSelector("body[data-attribution=true]");
    } else await page.waitForSelector("#login:not([hidden])");
    // Evaluated over the DevTools protocol, so the page's CSP (no inline script) stays as it is.
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const { axe, document } = globalThis as unknown as PageGlobals;
      const r = await axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      });
      return r.violations.map(
        (v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target).slice(0, 3))}`,
      );
    });
    assert.deepEqual(violations, [], `${label} page`);
    if (process.env.TRADEPIPE_DASHBOARD_SCREENSHOT && label === "dashboard") {
      await page.screenshot({ path: process.env.TRADEPIPE_DASHBOARD_SCREENSHOT, fullPage: true });
    }
    await page.context().close();
  }
});
