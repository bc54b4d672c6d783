// The dashboard page: plain JavaScript served as a file (the CSP allows no inline script), no
// framework and no CDN. It loads each panel from /api, then follows /api/stream (server-sent
// events): fills are added to the blotter as they come, `state` reloads the panels.

const $ = (id) => document.getElementById(id);
const state = {
  me: null,
  filter: { symbol: "", side: "" },
  fillIds: new Set(),
  fillsBefore: null,
  ordersBefore: null,
  attribution: null,
  lastMessageAt: Date.now(),
  staleAfterMs: 12000,
  reloadTimer: null,
  killRequestId: null,
  action: null,
};

/**
 * Requests of the first paint sent together with /api/me instead of after it (one round trip
 * less before the panels are drawn); each answers its panel's first load only. Without a
 * session they come back 401 and are never read.
 */
const early = new Map();

function sendEarly(paths) {
  for (const path of paths) {
    const res = fetch(path, { credentials: "same-origin" });
    res.catch(() => {});
    early.set(path, res);
  }
}

async function api(path, options) {
  const pending = options === undefined ? early.get(path) : undefined;
  early.delete(path);
  const res = await (pending ?? fetch(path, { credentials: "same-origin", ...options }));
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${res.status}`);
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c === null || c === undefined ? "" : c);
  return node;
}

function signClass(text) {
  return String(text).startsWith("-") ? "num neg" : "num";
}

function table(target, headers, rows, numeric) {
  const t = $(target);
  const head = el(
    "thead",
    null,
    el(
      "tr",
      null,
      ...headers.map((h, i) => el("th", { scope: "col", class: numeric[i] ? "num" : "" }, h)),
    ),
  );
  const body = el("tbody");
  for (const r of rows)
    body.append(
      el(
        "tr",
        null,
        ...r.map((c, i) =>
          c instanceof Node
            ? el("td", null, c)
            : el("td", { class: numeric[i] ? signClass(c) : "" }, c),
        ),
      ),
    );
  t.replaceChildren(head, body);
  return body;
}

// ---- header, P&L, positions, risk, attribution ----------------------------------------------

async function loadSummary(answer) {
  const s = await (answer ?? api("/api/summary"));
  $("pipeline-name").textContent = s.pipeline;
  const parts = [
    el(
      "span",
      { id: "trading-state" },
      s.killSwitch.engaged ? "Halted" : s.paused.paused ? "Paused" : "Trading",
    ),
    el("span", null, `Kill switch: ${s.killSwitch.engaged ? "ENGAGED" : "off"}`),
    el("span", null, `Breaker: ${s.breaker}`),
    el("span", { id: "buying-power" }, `Buying power: ${s.buyingPower ?? "not read yet"}`),
    el(
      "span",
      { id: "last-fill" },
      `Last fill: ${s.lastFillAgeS === null ? "none" : `${Math.round(s.lastFillAgeS)} s ago`}`,
    ),
    ...s.stages.map((st) =>
      el("span", null, `${st.stage}: ${st.leading ? "leading" : "no leader"} (epoch ${st.epoch})`),
    ),
    ...s.warnings.map((w) => el("span", { class: "warn" }, `⚠ ${w}`)),
  ];
  $("status").replaceChildren(...parts);
  const fig = (label, value, id) => [
    el("dt", null, label),
    el("dd", { id, class: signClass(value ?? "") }, value ?? "–"),
  ];
  $("pnl").replaceChildren(
    ...fig("Equity", s.equity, "fig-equity"),
    ...fig("Realized", s.pnl.realized, "fig-realized"),
    ...fig("Unrealized", s.pnl.unrealized, "fig-unrealized"),
    ...fig("Fees", s.pnl.fees, "fig-fees"),
    ...fig("Buying power", s.buyingPower, "fig-buying-power"),
    ...fig("Fills", String(s.fills), "fig-fills"),
  );
  $("kill-state").textContent = s.killSwitch.engaged
    ? `Engaged by ${s.killSwitch.changedBy ?? "?"}: ${s.killSwitch.reason ?? "no reason"}`
    : `Off${s.killSwitch.changedBy ? ` (last change by ${s.killSwitch.changedBy})` : ""}`;
  $("kill-state").dataset.engaged = String(s.killSwitch.engaged);
  $("pause-state").textContent = s.paused.paused
    ? `New orders paused by ${s.paused.changedBy ?? "?"}: ${s.paused.reason ?? "no reason"}`
    : "New orders are approved";
  $("pause-state").dataset.paused = String(s.paused.paused);
}

function chart(target, series, label, alertLevel, more) {
  const w = 600;
  const h = 160;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  // The first line in blue, any more (an overlaid backtest) in their own colour.
  const lines = [{ series, color: "#0b4f9c" }, ...(more || [])].filter((l) => l.series.t.length);
  if (lines.length > 0) {
    const ts = lines.flatMap((l) => [l.series.t[0], l.series.t[l.series.t.length - 1]]);
    const values = lines.flatMap((l) => l.series.v);
    if (alertLevel !== null && alertLevel !== undefined) values.push(alertLevel);
    let lo = values.reduce((a, b) => Math.min(a, b));
    let hi = values.reduce((a, b) => Math.max(a, b));
    if (hi === lo) {
      hi += 1;
      lo -= 1;
    }
    const t0 = Math.min(...ts);
    const span = Math.max(...ts) - t0 || 1;
    const x = (ti) => ((ti - t0) / span) * (w - 4) + 2;
    const y = (vi) => h - 2 - ((vi - lo) / (hi - lo)) * (h - 4);
    for (const l of lines) {
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute(
        "points",
        l.series.t.map((ti, i) => `${x(ti).toFixed(1)},${y(l.series.v[i]).toFixed(1)}`).join(" "),
      );
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", l.color);
      line.setAttribute("stroke-width", "1.5");
      svg.append(line);
    }
    if (alertLevel !== null && alertLevel !== undefined) {
      const a = document.createElementNS(ns, "line");
      a.setAttribute("x1", "0");
      a.setAttribute("x2", String(w));
      a.setAttribute("y1", String(y(alertLevel)));
      a.setAttribute("y2", String(y(alertLevel)));
      a.setAttribute("stroke", "#a4000f");
      a.setAttribute("stroke-dasharray", "4 3");
      svg.append(a);
    }
  }
  $(target).replaceChildren(svg);
}

/** equityPath: the equity request for the chart's width in CSS pixels (one bucket per pixel). */
function equityPath() {
  return `/api/equity?width=${Math.max(100, Math.round($("equity-chart").clientWidth || 600))}`;
}

/**
 * equityPathEarly: equityPath before /api/me says whether the app is shown. The app is
 * laid out for a moment (synchronously: nothing is painted in between), measured, hidden again.
 */
function equityPathEarly() {
  const app = $("app");
  app.hidden = false;
  const path = equityPath();
  app.hidden = true;
  return path;
}

async function loadEquity(answer) {
  const e = await (answer ?? api(equityPath()));
  const alert = e.drawdownAlertPct === null ? null : -e.drawdownAlertPct;
  chart("equity-chart", e.equity, "Equity over time", null);
  chart("drawdown-chart", e.drawdown, "Drawdown from peak in percent", alert);
  const last = e.equity.v.length ? e.equity.v[e.equity.v.length - 1].toFixed(2) : "–";
  $("equity-caption").textContent =
    `Equity: ${e.points} snapshots, last ${last}; ${e.strideMs ? `shown as ${e.equity.t.length} points (first, lowest, highest and last of every ${duration(e.strideMs)})` : "every snapshot shown"}.`;
  $("drawdown-caption").textContent =
    `Drawdown: worst ${e.maxDrawdownPct.toFixed(2)}%${alert === null ? "" : `; alert level ${alert.toFixed(2)}% (dashed)`}.`;
  table(
    "equity-table",
    ["From", "To", "Snapshots", "Low", "High", "Last"],
    e.table.map((r) => [
      new Date(r.from).toISOString(),
      new Date(r.to).toISOString(),
      String(r.n),
      r.lo.toFixed(2),
      r.hi.toFixed(2),
      r.last.toFixed(2),
    ]),
    [false, false, true, true, true, true],
  );
}

function duration(ms) {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

async function loadPositions(answer) {
  const p = await (answer ?? api("/api/positions"));
  table(
    "positions",
    ["Symbol", "Qty", "Avg price", "Last", "Market value", "Unrealized", "Realized"],
    p.map((r) => [
      r.symbol,
      r.qty,
      r.avgPrice,
      r.lastPrice ?? "–",
      r.marketValue,
      r.unrealized,
      r.realized,
    ]),
    [false, true, true, true, true, true, true],
  );
}

async function loadRisk(answer) {
  const r = await (answer ?? api("/api/risk"));
  const fmt = (n) => (n === null ? "–" : Number(n).toFixed(2).replace(/\.00$/, ""));
  table(
    "risk",
    ["Limit", "Used", "Limit", "Use"],
    r.limits.map((l) => {
      const pct = l.used !== null && l.limit ? (l.used / l.limit) * 100 : null;
      const use = pct === null ? (l.note ?? "–") : `${pct.toFixed(0)}%`;
      return [
        l.name,
        `${fmt(l.used)} ${l.unit}`,
        `${fmt(l.limit)} ${l.unit}`,
        el("span", { class: pct !== null && pct >= 100 ? "over" : "" }, use),
      ];
    }),
    [false, true, true, false],
  );
  const rec = r.reconciliation;
  $("risk-extra").textContent =
    `Order rate: ${r.orderRate.perMinute} / ${r.orderRate.limit} per minute. Reconciliation: ${rec.status}${rec.detail ? ` (${rec.detail})` : ""}${rec.at ? ` at ${rec.at}` : ""}.`;
}

async function loadAttribution(answer) {
  state.attribution = await (answer ?? api("/api/attribution"));
  renderAttribution();
}

function renderAttribution() {
  const a = state.attribution;
  if (!a) return;
  const rows = a[$("attr-dim").value].map((b) => [
    b.key,
    b.realized,
    b.unrealized,
    b.fees,
    b.total,
  ]);
  const body = table("attribution", ["Bucket", "Realized", "Unrealized", "Fees", "Total"], rows, [
    false,
    true,
    true,
    true,
    true,
  ]);
  const t = a.total;
  body.append(
    el(
      "tr",
      { class: "total" },
      el("th", { scope: "row" }, "Total"),
      ...[t.realized, t.unrealized, t.fees, t.total].map((c) =>
        el("td", { class: signClass(c) }, c),
      ),
    ),
  );
}

async function loadBacktests(answer) {
  const b = await (answer ?? api("/api/backtests"));
  const items = b.runs.map((r) =>
    el(
      "li",
      null,
      el("a", { href: r.href, target: "_blank", rel: "noopener" }, r.name),
      ` (${r.modifiedAt})`,
    ),
  );
  if (!items.length)
    items.push(
      el(
        "li",
        null,
        b.configured
          ? "No backtests in the directory yet."
          : "No backtest directory configured (--backtests DIR).",
      ),
    );
  $("backtests").replaceChildren(...items);
  const select = $("overlay-run");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "" }, "none"),
    ...b.runs.filter((r) => r.overlay).map((r) => el("option", { value: r.name }, r.name)),
  );
  select.value = chosen;
}

async function loadOverlay() {
  const run = $("overlay-run").value;
  $("overlay").hidden = !run;
  $("overlay-details").hidden = !run;
  if (!run) return;
  const width = Math.max(100, Math.round($("overlay-chart").clientWidth || 600));
  const o = await api(`/api/backtests/${encodeURIComponent(run)}/overlay?width=${width}`);
  chart("overlay-chart", o.live, `Live equity and backtest ${o.run}, percent`, null, [
    { series: o.backtest, color: "#8a4b00" },
  ]);
  const gap =
    o.maxGapBps === null
      ? "No live equity in the backtest's period."
      : `Largest gap ${o.maxGapBps.toFixed(0)} bps at ${new Date(o.maxGapAt).toISOString()} (threshold ${o.thresholdBps} bps).`;
  const caption = $("overlay-caption");
  caption.textContent = `${o.run}: ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()}. ${gap}${o.diverged ? " Diverged." : ""}`;
  caption.className = o.diverged ? "diverged" : "";
  caption.dataset.diverged = String(o.diverged);
  const pct = (v) => (v === null ? "–" : `${v.toFixed(2)}%`);
  table(
    "overlay-table",
    ["From", "To", "Live", "Backtest", "Gap (bps)"],
    o.table.map((r) => [
      new Date(r.from).toISOString(),
      new Date(r.to).toISOString(),
      pct(r.live),
      pct(r.backtest),
      r.gapBps === null ? "–" : r.gapBps.toFixed(0),
    ]),
    [false, false, true, true, true],
  );
}

// ---- blotter --------------------------------------------------------------------------------

function fillQuery(extra) {
  const q = new URLSearchParams();
  if (state.filter.symbol) q.set("symbol", state.filter.symbol);
  if (state.filter.side) q.set("side", state.filter.side);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, String(v));
  return q.toString();
}

function fillRow(f) {
  return el(
    "tr",
    { "data-fill-id": String(f.id) },
    el("td", { class: "num" }, String(f.id)),
    el("td", null, f.filledAt.replace("T", " ").slice(0, 19)),
    el("td", null, f.symbol),
    el("td", null, f.side),
    el("td", { class: "num" }, f.qty),
    el("td", { class: "num" }, f.price),
    el("td", { class: "num" }, f.commission),
    el(
      "td",
      null,
      el(
        "button",
        { type: "button", class: "link", onclick: () => showAudit(f.clientOrderId) },
        f.clientOrderId,
      ),
    ),
  );
}

async function loadFills(more, answer) {
  const page = await (answer ??
    api(`/api/fills?${fillQuery(more ? { before: state.fillsBefore } : {})}`));
  let body = $("fills").querySelector("tbody");
  if (!more || !body) {
    state.fillIds.clear();
    body = table(
      "fills",
      ["Id", "Time (UTC)", "Symbol", "Side", "Qty", "Price", "Fee", "Order"],
      [],
      [true, false, false, false, true, true, true, false],
    );
  }
  for (const f of page.rows) {
    if (state.fillIds.has(f.id)) continue;
    state.fillIds.add(f.id);
    body.append(fillRow(f));
  }
  state.fillsBefore = page.nextBefore;
  $("more-fills").hidden = page.nextBefore === null;
  $("fills-count").textContent = `${page.total} fills match.`;
  $("fills-count").dataset.total = String(page.total);
  $("csv").setAttribute("href", `/api/fills.csv?${fillQuery()}`);
}

function addLiveFill(f) {
  if (state.filter.symbol && f.symbol !== state.filter.symbol) return;
  if (state.filter.side && f.side !== state.filter.side) return;
  if (state.fillIds.has(f.id)) return;
  state.fillIds.add(f.id);
  const body = $("fills").querySelector("tbody");
  if (body) body.prepend(fillRow(f));
  const count = $("fills-count");
  const total = Number(count.dataset.total || "0") + 1;
  count.dataset.total = String(total);
  count.textContent = `${total} fills match.`;
}

async function loadOrders(more, answer) {
  const page = await (answer ?? api(`/api/orders?${more ? `before=${state.ordersBefore}` : ""}`));
  let body = $("orders").querySelector("tbody");
  if (!more || !body)
    body = table(
      "orders",
      ["Id", "Symbol", "Side", "Type", "Qty", "Filled", "Status", "Audit"],
      [],
      [true, false, false, false, true, true, false, false],
    );
  for (const o of page.rows) {
    body.append(
      el(
        "tr",
        null,
        el("td", { class: "num" }, String(o.id)),
        el("td", null, o.symbol),
        el("td", null, o.side),
        el("td", null, o.type),
        el("td", { class: "num" }, o.qty),
        el("td", { class: "num" }, o.filledQty),
        el("td", null, o.status),
        el(
          "td",
          null,
          el(
            "button",
            { type: "button", class: "link", onclick: () => showAudit(o.clientOrderId) },
            `trail of ${o.clientOrderId}`,
          ),
        ),
      ),
    );
  }
  state.ordersBefore = page.nextBefore;
  $("more-orders").hidden = page.nextBefore === null;
}

async function showAudit(clientOrderId) {
  const rows = await api(`/api/audit?clientOrderId=${encodeURIComponent(clientOrderId)}`);
  const box = $("audit");
  box.replaceChildren(
    el("h3", null, `Audit trail of ${clientOrderId}`),
    focusable(
      el(
        "div",
        { class: "scroll", "data-label": "audit trail table" },
        el("table", { id: "audit-table" }),
      ),
    ),
  );
  table(
    "audit-table",
    ["Time", "Stage", "Event", "From", "To", "Reason"],
    rows.map((r) => [r.occurredAt, r.stage, r.event, r.from ?? "", r.to ?? "", r.reason ?? ""]),
    [],
  );
}

// ---- live stream ----------------------------------------------------------------------------

function scheduleReload() {
  if (state.reloadTimer) return;
  state.reloadTimer = setTimeout(() => {
    state.reloadTimer = null;
    reloadPanels();
  }, 150);
}

function reloadPanels() {
  return Promise.all([
    loadSummary(),
    throttled("equity", 5_000, loadEquity),
    loadPositions(),
    loadRisk(),
    throttled("attribution", 10_000, loadAttribution),
  ]).catch((err) => showError(err));
}

/**
 * The equity series (every snapshot, downsampled) and the attribution (a replay of every fill)
 * cost the server most: refreshed at most every `ms`, however often the data changes.
 */
const loadedAt = { equity: 0, attribution: 0 };
function throttled(name, ms, load) {
  if (Date.now() - loadedAt[name] < ms) return undefined;
  loadedAt[name] = Date.now();
  return load();
}

/** connect follows the stream from the newest fill the blotter drew (none missed in between). */
function connect() {
  const shown = [...state.fillIds];
  const after = shown.length ? Math.max(...shown) : 0;
  const source = new EventSource(`/api/stream?after=${after}`);
  const seen = () => {
    state.lastMessageAt = Date.now();
    $("stale").hidden = true;
  };
  source.addEventListener("hello", seen);
  source.addEventListener("heartbeat", seen);
  source.addEventListener("state", () => {
    seen();
    scheduleReload();
  });
  source.addEventListener("fill", (ev) => {
    seen();
    addLiveFill(JSON.parse(ev.data));
    scheduleReload();
  });
  setInterval(() => {
    const age = Date.now() - state.lastMessageAt;
    if (age > state.staleAfterMs) {
      $("stale").hidden = false;
      $("stale-age").textContent = `${Math.round(age / 1000)} s ago`;
    }
  }, 1000);
}

// ---- kill switch ----------------------------------------------------------------------------

/**
 * The operator actions share one confirmation form: the second step names the pipeline and
 * what happens, and each opening makes a new requestId, so a double submit is one action.
 */
const ACTIONS = {
  engage: {
    path: "/api/kill-switch",
    confirm: "kill-switch",
    body: { engaged: true },
    question: (p) =>
      `Engage the kill switch of pipeline "${p}"? Trading halts and open orders are cancelled.`,
  },
  release: {
    path: "/api/kill-switch",
    confirm: "kill-switch",
    body: { engaged: false },
    question: (p) => `Release the kill switch of pipeline "${p}"? Trading may resume.`,
  },
  pause: {
    path: "/api/pause",
    confirm: "pause",
    body: { paused: true },
    question: (p) =>
      `Pause new orders of pipeline "${p}"? No order that grows a position is approved; open orders keep working.`,
  },
  resume: {
    path: "/api/pause",
    confirm: "pause",
    body: { paused: false },
    question: (p) => `Resume new orders of pipeline "${p}"?`,
  },
  cancelAll: {
    path: "/api/cancel-all",
    confirm: "cancel-all",
    body: {},
    question: (p) =>
      `Cancel every open order of pipeline "${p}" at the broker? Trading goes on; new orders are still approved.`,
  },
};

function openKill(name) {
  state.action = ACTIONS[name];
  state.killRequestId = crypto.randomUUID();
  $("kill-question").textContent = state.action.question(state.me.pipeline);
  $("kill-pipeline").value = "";
  $("kill-reason").value = "";
  $("kill-error").textContent = "";
  $("kill-confirm").hidden = false;
  $("kill-pipeline").focus();
}

async function submitKill(ev) {
  ev.preventDefault();
  const button = $("kill-submit");
  button.disabled = true;
  try {
    await api(state.action.path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Tradepipe-Confirm": state.action.confirm },
      body: JSON.stringify({
        ...state.action.body,
        reason: $("kill-reason").value,
        confirmPipeline: $("kill-pipeline").value,
        requestId: state.killRequestId,
      }),
    });
    $("kill-confirm").hidden = true;
    await loadSummary();
  } catch (err) {
    $("kill-error").textContent = err.message;
  } finally {
    button.disabled = false;
  }
}

/**
 * focusable lets keyboard users scroll a scrolling table (WCAG 2.1.1): a tab stop named after
 * its table. Done here rather than in the HTML, which keeps the markup free of ARIA roles.
 */
function focusable(box) {
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", box.dataset.label);
  return box;
}

// ---- start ----------------------------------------------------------------------------------

function showError(err) {
  $("status").append(el("span", { class: "warn" }, `⚠ ${err.message}`));
}

async function start() {
  // Five early requests and /api/me: the six connections a browser opens to a host over
  // HTTP/1.1, so none waits for another.
  const equityEarly = equityPathEarly();
  sendEarly([
    "/api/summary",
    "/api/positions",
    "/api/risk",
    `/api/fills?${fillQuery({})}`,
    equityEarly,
  ]);
  state.me = await api("/api/me");
  $("pipeline-name").textContent = state.me.pipeline;
  if (!state.me.user) {
    early.clear();
    $("login").hidden = false;
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api("/api/login", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: $("token").value }),
        });
        location.reload();
      } catch (err) {
        $("login-error").textContent = err.message;
      }
    });
    return;
  }
  if (state.me.heartbeatMs) state.staleAfterMs = state.me.heartbeatMs * 2.5;
  $("app").hidden = false;
  for (const box of document.querySelectorAll(".scroll")) focusable(box);
  const operator = state.me.user.role === "operator";
  const actionButtons = {
    "kill-start": "engage",
    "release-start": "release",
    "pause-start": "pause",
    "resume-start": "resume",
    "cancel-all-start": "cancelAll",
  };
  for (const [id, name] of Object.entries(actionButtons)) {
    $(id).hidden = !operator;
    $(id).addEventListener("click", () => openKill(name));
  }
  $("kill-cancel").addEventListener("click", () => {
    $("kill-confirm").hidden = true;
  });
  $("kill-confirm").addEventListener("submit", submitKill);
  $("attr-dim").addEventListener("change", renderAttribution);
  $("overlay-run").addEventListener("change", () => loadOverlay().catch(showError));
  $("fill-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.filter = { symbol: $("f-symbol").value.trim().toUpperCase(), side: $("f-side").value };
    loadFills(false).catch(showError);
  });
  $("more-fills").addEventListener("click", () => loadFills(true).catch(showError));
  $("more-orders").addEventListener("click", () => loadOrders(true).catch(showError));
  // The first paint needs the figures, charts, positions, risk and the fills, asked for
  // above; once they are drawn, the orders, the backtest list and the attribution, and the
  // stream from the newest fill drawn. (Asking for all at once was slower for both groups on
  // the 2-core machine: the later requests held up the first ones.) Each group is drawn at
  // once when its last answer is in: one style, layout and paint of the page for the group,
  // not one per panel. Each panel marks when it is drawn (performance.mark), so the
  // benchmark can tell where the first load's time goes.
  loadedAt.equity = Date.now();
  loadedAt.attribution = Date.now();
  const firstPaint = drawTogether([
    ["summary", loadSummary, api("/api/summary")],
    ["equity", loadEquity, api(equityEarly)],
    ["positions", loadPositions, api("/api/positions")],
    ["risk", loadRisk, api("/api/risk")],
    ["fills", (a) => loadFills(false, a), api(`/api/fills?${fillQuery({})}`)],
  ]).then(() => {
    document.body.dataset.ready = "true";
    performance.mark("panel:first-paint");
  });
  await firstPaint;
  const rest = drawTogether([
    ["orders", (a) => loadOrders(false, a), api("/api/orders?")],
    ["backtests", loadBacktests, api("/api/backtests")],
    ["attribution", loadAttribution, api("/api/attribution")],
  ]);
  connect();
  await rest;
  document.body.dataset.attribution = "true";
}

/**
 * drawTogether waits for every panel's answer, then draws them all in one task (awaiting an
 * answer already in runs in the same microtask checkpoint, before the browser renders). A
 * failed request fails its panel only.
 */
async function drawTogether(panels) {
  const answers = await Promise.allSettled(panels.map(([, , request]) => request));
  await Promise.all(
    panels.map(async ([name, draw], i) => {
      const a = answers[i];
      if (a.status === "rejected") throw a.reason;
      await draw(Promise.resolve(a.value));
      performance.mark(`panel:${name}`);
    }),
  );
}

start().catch(showError);
