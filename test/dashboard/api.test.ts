/**
 * The dashboard's HTTP side against a real Postgres: headers, auth, the kill switch's guards,
 * the keyset blotter and its CSV, and the stream's resume by Last-Event-ID.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { risk } from "../../services/dashboard/data.ts";
import { type Dashboard, startDashboard } from "../../services/dashboard/server.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { addFill, dashboardOn, listenFor, seedPipeline, TEST_TOKENS } from "./fixture.ts";

let db: TestDatabase;
let open: Dashboard;
let secured: Dashboard;

const tokens = TEST_TOKENS;

before(async () => {
  db = await withMigratedDatabase();
  await seedPipeline(db.pool, { fills: 250, snapshots: 300 });
  open = await dashboardOn(db.pool, { pollMs: 50 });
  secured = await dashboardOn(db.pool, { auth: { tokens: TEST_TOKENS } });
});
after(async () => {
  await open?.close();
  await secured?.close();
  await db?.drop();
});

/** getJson fetches and parses; the tests check the fields they read. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
async function getJson(url: string, init?: RequestInit): Promise<any> {
  return (await fetch(url, init)).json();
}

const origin = (d: Dashboard) => d.url.replace(/\/$/, "");

async function login(d: Dashboard, token: string): Promise<string> {
  const res = await fetch(`${d.url}api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: origin(d) },
    body: JSON.stringify({ token }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = res.headers.get("set-cookie") ?? "";
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  return cookie.split(";")[0]!;
}

function killSwitch(
  d: Dashboard,
  cookie: string,
  body: object,
  headers: Record<string, string> = {},
) {
  return operatorAction(d, "kill-switch", cookie, body, headers);
}

/** operatorAction POSTs as the page does: JSON, same Origin, the X-Tradepipe-Confirm header. */
function operatorAction(
  d: Dashboard,
  action: "kill-switch" | "pause" | "cancel-all",
  cookie: string,
  body: object,
  headers: Record<string, string> = {},
) {
  return fetch(`${d.url}api/${action}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Tradepipe-Confirm": action,
      Origin: origin(d),
      Cookie: cookie,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

test("refuses to listen beyond loopback without auth; with tokens it starts", async () => {
  await assert.rejects(
    startDashboard({ pool: db.pool, host: "0.0.0.0", port: 0, pipelineName: "alpha" }),
    /refusing to listen on 0\.0\.0\.0 without auth/,
  );
  const d = await startDashboard({
    pool: db.pool,
    host: "0.0.0.0",
    port: 0,
    pipelineName: "alpha",
    auth: { tokens },
  });
  await d.close();
});

test("strict headers: CSP without inline script, nosniff, no-referrer, no-store on the API", async () => {
  const page = await fetch(open.url);
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("referrer-policy"), "no-referrer");
  const html = await page.text();
  // Every script is a same-origin file; nothing comes from elsewhere.
  for (const m of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1]!, /src="\/[^/]/);
    assert.equal(m[2]!.trim(), "");
  }
  assert.doesNotMatch(html, /https?:\/\//);
  const api = await fetch(`${open.url}api/summary`);
  assert.equal(api.headers.get("cache-control"), "no-store");
});

test("summary figures are the database's", async () => {
  const s = await getJson(`${open.url}api/summary`);
  const sums = (
    await db.pool.query(
      `SELECT round(sum(realized_pnl), 2)::text r, round(sum(unrealized_pnl), 2)::text u,
              (SELECT round(sum(commission), 2)::text FROM fills) f FROM positions`,
    )
  ).rows[0];
  assert.deepEqual(s.pnl, { realized: sums.r, unrealized: sums.u, fees: sums.f });
  assert.equal(s.stages.length, 5);
  assert.ok(s.stages.every((x: { leading: boolean }) => x.leading));
  assert.equal(s.killSwitch.engaged, false);
});

test("risk panel: each limit's use is the hand-computed one from the seeded book", async () => {
  // positions: AAPL 30 @ 103.5, MSFT -20 @ 101, XOM 15 @ 98.005, JPM flat; daily P&L -120.5,
  // VaR 1834.27 (fixture.ts).
  const spec = {
    risk: {
      maxPositionShares: 100,
      maxNotionalPerSymbol: "5000",
      maxOpenPositions: 4,
      maxDailyLoss: "1000",
      maxVar99: "2000",
      maxSectorConcentration: 0.5,
    },
  } as unknown as Parameters<typeof risk>[1];
  const r = await risk(db.pool, spec);
  const used = Object.fromEntries(r.limits.map((l) => [l.name, [l.used, l.limit, l.unit]]));
  const gross = 30 * 103.5 + 20 * 101 + 15 * 98.005;
  assert.deepEqual(used["Position size"], [30, 100, "shares"]);
  assert.deepEqual(used["Notional per symbol"], [3105, 5000, "USD"]);
  assert.deepEqual(used["Open positions"], [3, 4, "positions"]);
  assert.deepEqual(used["Daily loss"], [120.5, 1000, "USD"]);
  assert.deepEqual(used["VaR 99% 1-day"], [1834.27, 2000, "USD"]);
  const [sector, limit, unit] = used["Sector concentration"] as [number, number, string];
  assert.ok(Math.abs(sector - ((30 * 103.5 + 20 * 101) / gross) * 100) < 1e-9, String(sector));
  assert.deepEqual([limit, unit], [50, "%"]);
  assert.equal(r.limits.length, 6);
  assert.equal(r.orderRate.limit, 180);
});

test("auth: no session → 401; wrong token → 401; tokens in URLs are not accepted; reload keeps the session", async () => {
  assert.equal((await fetch(`${secured.url}api/summary`)).status, 401);
  assert.equal((await fetch(`${secured.url}api/summary?token=viewer-token-123`)).status, 401);
  const cookie = await login(secured, "viewer-token-123");
  const me = await getJson(`${secured.url}api/me`, { headers: { Cookie: cookie } });
  assert.deepEqual(me.user, { name: "vera", role: "viewer" });
  assert.equal(
    (await fetch(`${secured.url}api/summary`, { headers: { Cookie: cookie } })).status,
    200,
  );
});

test("failed logins: five from one address in a minute, then 429 even for a good token", async () => {
  // A dashboard of its own: the failures count per client address for the whole process.
  const d = await dashboardOn(db.pool, { auth: { tokens: TEST_TOKENS } });
  try {
    const attempt = (token: string) =>
      fetch(`${d.url}api/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: origin(d) },
        body: JSON.stringify({ token }),
      });
    for (let i = 0; i < 5; i += 1) assert.equal((await attempt(`wrong-${i}`)).status, 401);
    const refused = await attempt("operator-token-456");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.equal(refused.headers.get("set-cookie"), null, "no session while refused");
  } finally {
    await d.close();
  }
});

test("kill switch: GET 405, viewer 403, cross-origin 403, form-like 403/415, wrong name 400", async () => {
  const viewer = await login(secured, "viewer-token-123");
  const operator = await login(secured, "operator-token-456");
  const body = {
    engaged: true,
    reason: "test",
    confirmPipeline: "alpha",
    requestId: "req-00000001",
  };
  assert.equal(
    (await fetch(`${secured.url}api/kill-switch`, { headers: { Cookie: operator } })).status,
    405,
  );
  assert.equal((await killSwitch(secured, viewer, body)).status, 403);
  assert.equal(
    (await killSwitch(secured, operator, body, { Origin: "http://evil.example" })).status,
    403,
  );
  assert.equal(
    (await killSwitch(secured, operator, body, { "Sec-Fetch-Site": "cross-site" })).status,
    403,
  );
  assert.equal(
    (await killSwitch(secured, operator, body, { "X-Tradepipe-Confirm": "" })).status,
    403,
  );
  assert.equal(
    (await killSwitch(secured, operator, body, { "Content-Type": "text/plain" })).status,
    415,
  );
  assert.equal(
    (await killSwitch(secured, operator, { ...body, confirmPipeline: "beta" })).status,
    400,
  );
  const state = await db.pool.query("SELECT kill_switch_engaged FROM risk_state");
  assert.equal(state.rows[0].kill_switch_engaged, false, "no refused request may change the state");
});

test("kill switch: a double submit is one action, recorded with who and why", async () => {
  const operator = await login(secured, "operator-token-456");
  const listener = await listenFor(db.url, "tradepipe_kill_switch");
  const notices = listener.notices;
  try {
    const body = {
      engaged: true,
      reason: "halt for the test",
      confirmPipeline: "alpha",
      requestId: "req-double-1",
    };
    const [a, b] = await Promise.all([
      killSwitch(secured, operator, body),
      killSwitch(secured, operator, body),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(await a.json(), await b.json());
    const again = await killSwitch(secured, operator, body);
    assert.equal(again.status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notices.length, 1, `one change, got ${notices.length}`);
    const row = (await db.pool.query("SELECT * FROM risk_state")).rows[0];
    assert.equal(row.kill_switch_engaged, true);
    assert.equal(row.kill_switch_changed_by, "dashboard:olga");
    assert.equal(row.kill_switch_reason, "halt for the test");
    const release = await killSwitch(secured, operator, {
      engaged: false,
      confirmPipeline: "alpha",
      requestId: "req-release-1",
    });
    assert.equal(release.status, 200);
    assert.equal(
      (await db.pool.query("SELECT kill_switch_engaged FROM risk_state")).rows[0]
        .kill_switch_engaged,
      false,
    );
  } finally {
    await listener.end();
  }
});

for (const action of ["pause", "cancel-all"] as const) {
  test(`${action}: GET 405, viewer 403, foreign Origin 403, other confirm header 403, wrong name 400`, async () => {
    const viewer = await login(secured, "viewer-token-123");
    const operator = await login(secured, "operator-token-456");
    const body = {
      paused: true,
      reason: "test",
      confirmPipeline: "alpha",
      requestId: "req-guard-1",
    };
    const before = (await db.pool.query("SELECT count(*)::int AS n FROM cancel_all_requests"))
      .rows[0].n;
    assert.equal(
      (await fetch(`${secured.url}api/${action}`, { headers: { Cookie: operator } })).status,
      405,
    );
    assert.equal((await operatorAction(secured, action, viewer, body)).status, 403);
    assert.equal(
      (await operatorAction(secured, action, operator, body, { Origin: "http://evil.example" }))
        .status,
      403,
    );
    assert.equal(
      (
        await operatorAction(secured, action, operator, body, {
          "X-Tradepipe-Confirm": "kill-switch",
        })
      ).status,
      403,
    );
    assert.equal(
      (await operatorAction(secured, action, operator, { ...body, confirmPipeline: "beta" }))
        .status,
      400,
    );
    const row = (await db.pool.query("SELECT paused FROM risk_state")).rows[0];
    assert.equal(row.paused, false, "no refused request may pause");
    const after = (await db.pool.query("SELECT count(*)::int AS n FROM cancel_all_requests"))
      .rows[0].n;
    assert.equal(after, before, "no refused request may ask for a cancel-all");
  });
}

test("pause: a double submit is one change, recorded as the session's user, then resumed", async () => {
  const operator = await login(secured, "operator-token-456");
  const listener = await listenFor(db.url, "tradepipe_pause");
  const notices = listener.notices;
  try {
    const body = {
      paused: true,
      reason: "news at noon",
      confirmPipeline: "alpha",
      requestId: "req-pause-1",
      changedBy: "someone-else",
    };
    const [a, b] = await Promise.all([
      operatorAction(secured, "pause", operator, body),
      operatorAction(secured, "pause", operator, body),
    ]);
    assert.equal(a.status, 200, await a.clone().text());
    assert.deepEqual(await a.json(), await b.json());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(notices.length, 1, `one change, got ${notices.length}`);
    const row = (await db.pool.query("SELECT * FROM risk_state")).rows[0];
    assert.equal(row.paused, true);
    assert.equal(row.paused_changed_by, "dashboard:olga");
    assert.equal(row.paused_reason, "news at noon");
    const summary = await getJson(`${secured.url}api/summary`, { headers: { Cookie: operator } });
    assert.equal(summary.paused.paused, true);
    const resume = await operatorAction(secured, "pause", operator, {
      paused: false,
      confirmPipeline: "alpha",
      requestId: "req-resume-1",
    });
    assert.equal(resume.status, 200);
    assert.equal((await db.pool.query("SELECT paused FROM risk_state")).rows[0].paused, false);
  } finally {
    await listener.end();
  }
});

test("cancel-all: a double submit is one request, recorded as the session's user", async () => {
  const operator = await login(secured, "operator-token-456");
  const body = {
    reason: "stale quotes",
    confirmPipeline: "alpha",
    requestId: "req-cancel-1",
    requestedBy: "someone-else",
  };
  const [a, b] = await Promise.all([
    operatorAction(secured, "cancel-all", operator, body),
    operatorAction(secured, "cancel-all", operator, body),
  ]);
  assert.equal(a.status, 200, await a.clone().text());
  assert.deepEqual(await a.json(), await b.json());
  const rows = (
    await db.pool.query("SELECT * FROM cancel_all_requests WHERE reason = 'stale quotes'")
  ).rows;
  assert.equal(rows.length, 1);
  assert.equal(rows[0].requested_by, "dashboard:olga");
  assert.equal(
    (
      await operatorAction(secured, "cancel-all", operator, {
        ...body,
        reason: "",
        requestId: "req-cancel-2",
      })
    ).status,
    400,
    "a reason is required",
  );
});

test("blotter: keyset pages cover the filter once; the CSV holds exactly the filtered rows", async () => {
  const seen: number[] = [];
  let before: number | null = null;
  let total = 0;
  do {
    const q: string = `symbol=XOM&side=buy&limit=17${before === null ? "" : `&before=${before}`}`;
    const page = await getJson(`${open.url}api/fills?${q}`);
    total = page.total;
    for (const r of page.rows) {
      assert.equal(r.symbol, "XOM");
      assert.equal(r.side, "buy");
      seen.push(r.id);
    }
    before = page.nextBefore;
  } while (before !== null);
  const expected = (
    await db.pool.query(
      "SELECT id FROM fills WHERE symbol = 'XOM' AND side = 'buy' ORDER BY id DESC",
    )
  ).rows.map((r) => Number(r.id));
  assert.deepEqual(seen, expected);
  assert.equal(total, expected.length);
  const csv = await (await fetch(`${open.url}api/fills.csv?symbol=XOM&side=buy`)).text();
  const lines = csv.trim().split("\n");
  assert.equal(lines[0], "id,client_order_id,symbol,side,qty,price,commission,filled_at");
  assert.deepEqual(
    lines.slice(1).map((l) => Number(l.split(",")[0])),
    expected,
  );
  assert.equal((await fetch(`${open.url}api/fills?side=short`)).status, 400);
});

test("the audit trail of an order, in order", async () => {
  const rows = await getJson(`${open.url}api/audit?clientOrderId=ord-5`);
  assert.deepEqual(
    rows.map((r: { event: string }) => r.event),
    ["approved", "submitted", "filled"],
  );
});

test("trusted proxy header counts only from allow-listed addresses", async () => {
  const make = (addresses: string[]) =>
    startDashboard({
      pool: db.pool,
      host: "127.0.0.1",
      port: 0,
      pipelineName: "alpha",
      auth: {
        tokens: [],
        trustedProxy: { addresses, userHeader: "X-Forwarded-User", roleHeader: "X-Forwarded-Role" },
      },
    });
  const trusted = await make(["127.0.0.1"]);
  const other = await make(["10.9.9.9"]);
  try {
    const h = { "X-Forwarded-User": "sso-user", "X-Forwarded-Role": "operator" };
    const me = await getJson(`${trusted.url}api/me`, { headers: h });
    assert.deepEqual(me.user, { name: "sso-user", role: "operator" });
    assert.equal((await fetch(`${other.url}api/summary`, { headers: h })).status, 401);
  } finally {
    await trusted.close();
    await other.close();
  }
});

/** readEvents opens the stream and collects events until `until` says stop. */
function readEvents(
  d: Dashboard,
  lastEventId: string | undefined,
  until: (events: Array<{ id?: string; event: string; data: string }>) => boolean,
  query = "",
): Promise<Array<{ id?: string; event: string; data: string }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ id?: string; event: string; data: string }> = [];
    const req = http.get(
      `${d.url}api/stream${query}`,
      { headers: lastEventId ? { "Last-Event-ID": lastEventId } : {} },
      (res) => {
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          let end = buf.indexOf("\n\n");
          while (end >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const ev: { id?: string; event: string; data: string } = { event: "message", data: "" };
            for (const line of block.split("\n")) {
              const [k, ...rest] = line.split(": ");
              const v = rest.join(": ");
              if (k === "id") ev.id = v;
              else if (k === "event") ev.event = v;
              else if (k === "data") ev.data = v;
            }
            events.push(ev);
            end = buf.indexOf("\n\n");
          }
          if (until(events)) {
            req.destroy();
            resolve(events);
          }
        });
      },
    );
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

test("stream: fills carry their id; a reconnect with Last-Event-ID resumes without gaps or duplicates", {
  timeout: 30_000,
}, async () => {
  const fillIds = (evs: Array<{ id?: string; event: string }>) =>
    evs.filter((e) => e.event === "fill").map((e) => Number(e.id));
  const first: number[] = [];
  const reading = readEvents(open, undefined, (evs) => fillIds(evs).length >= 3);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i += 1) first.push(await addFill(db.pool, "JPM", "buy"));
  assert.deepEqual(fillIds(await reading), first);
  // Disconnected: three more fills happen.
  const missed: number[] = [];
  for (let i = 0; i < 3; i += 1) missed.push(await addFill(db.pool, "JPM", "sell"));
  const resumed = await readEvents(open, String(first[2]), (evs) => fillIds(evs).length >= 3);
  assert.deepEqual(fillIds(resumed), missed);
});

test("stream: ?after= starts from the page's newest fill, so fills committed while the page loaded are sent; a bad one is refused", {
  timeout: 30_000,
}, async () => {
  const fillIds = (evs: Array<{ id?: string; event: string }>) =>
    evs.filter((e) => e.event === "fill").map((e) => Number(e.id));
  const shown = await addFill(db.pool, "XOM", "buy");
  // Committed after the page read its blotter, before its stream connected.
  const between = [await addFill(db.pool, "XOM", "sell"), await addFill(db.pool, "XOM", "buy")];
  const events = await readEvents(
    open,
    undefined,
    (evs) => fillIds(evs).length >= 2,
    `?after=${shown}`,
  );
  assert.deepEqual(fillIds(events), between);
  const bad = await fetch(`${open.url}api/stream?after=1;DROP`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /after: must be a fill id/);
});
