/**
 * The market-data stage against the real simulator (manual clock), a real Postgres and an
 * InProcBus, started by the host as in production: books and quotes reach the bus under the
 * right symbols with exact prices, a book that went wrong is resynced from a fresh snapshot,
 * and a dropped stream is reconnected.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { rfc3339ToNs } from "../../services/alpaca-client/index.ts";
import { decodeMessage } from "../../services/core/bus/typed.ts";
import type { BusMessage } from "../../services/core/bus/types.ts";
import {
  BookDeltaSchema,
  BookSnapshotSchema,
  HeartbeatSchema,
  parseTraceparent,
  QuoteSchema,
  TradeSchema,
  wallClockNs,
} from "../../services/core/messages/index.ts";
import { MARKET_DATA_SETTINGS } from "../../services/market-data/stage.ts";
import type { StageInstance } from "../../services/pipeline/host.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

let h: Harness;
let md: StageInstance;
let quotes: BusMessage[];
let trades: BusMessage[];
let snapshots: BusMessage[];
let deltas: BusMessage[];
let heartbeats: BusMessage[];

before(async () => {
  h = await startHarness({
    sim: { symbols: { AAPL: 187, MSFT: 410 }, clock: "manual", partialFillProbability: 0 },
  });
  quotes = h.record(["md.quote/*"]);
  trades = h.record(["md.trade/*"]);
  snapshots = h.record(["md.book_snapshot/*"]);
  deltas = h.record(["md.book_delta/*"]);
  heartbeats = h.record(["bus.heartbeat"]);
  md = await h.start("market-data");
});
after(() => h.close());

const snapshotsOf = (symbol: string) =>
  snapshots.filter((m) => m.topic === `md.book_snapshot/${symbol}`);

async function metric(name: string): Promise<number> {
  const m = (await h.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((sum, v) => sum + Number(v.value), 0);
}

test("a snapshot of each symbol's book arrives after subscribing, best level first", async () => {
  await waitFor(() => snapshotsOf("AAPL").length > 0 && snapshotsOf("MSFT").length > 0, "books");
  const state = h.sim.admin.state() as { quotes: Record<string, { bp: string; ap: string }> };
  for (const symbol of ["AAPL", "MSFT"]) {
    const snap = decodeMessage(snapshotsOf(symbol)[0]!, BookSnapshotSchema);
    assert.equal(snap.symbol, symbol);
    assert.equal(snap.header?.source, "market-data");
    assert.ok(snap.bids.length > 1 && snap.asks.length > 1, "depth on both sides");
    assert.equal(snap.bids[0]!.price, state.quotes[symbol]!.bp, "best bid = the NBBO bid");
    assert.equal(snap.asks[0]!.price, state.quotes[symbol]!.ap, "best ask = the NBBO ask");
    for (let i = 1; i < snap.bids.length; i++) {
      assert.ok(Number(snap.bids[i]!.price) < Number(snap.bids[i - 1]!.price), "bids descend");
    }
    for (let i = 1; i < snap.asks.length; i++) {
      assert.ok(Number(snap.asks[i]!.price) > Number(snap.asks[i - 1]!.price), "asks ascend");
    }
  }
});

test("a quote reaches md.quote/<SYM> with exact prices, the feed's event time and the read time", async () => {
  const from = quotes.length;
  const sentNs = wallClockNs();
  h.sim.admin.setQuote("AAPL", "187.25", "187.27");
  const at = rfc3339ToNs(h.sim.admin.now());
  await waitFor(() => quotes.length > from, "the forced quote");
  const seenNs = wallClockNs();
  const msg = quotes[from]!;
  assert.equal(msg.topic, "md.quote/AAPL");
  const q = decodeMessage(msg, QuoteSchema);
  assert.equal(q.symbol, "AAPL");
  assert.equal(q.bidPrice, "187.25");
  assert.equal(q.askPrice, "187.27");
  assert.equal(q.header?.eventTimeNs, at);
  assert.equal(q.header?.traceparent, "", "tracing is off in this pipeline");
  // The origin is this host's clock when the stage read the frame, not the simulator's.
  const origin = q.header?.originTimeNs ?? 0n;
  assert.ok(origin >= sentNs && origin <= seenNs, `origin ${origin} in [${sentNs}, ${seenNs}]`);
});

test("simulated market activity flows as quotes, trades and consecutive book deltas", async () => {
  const q0 = quotes.length;
  const t0 = trades.length;
  const d0 = deltas.length;
  for (let i = 0; i < 20; i++) h.sim.admin.advance(500);
  await waitFor(() => quotes.length > q0 + 5 && trades.length > t0 && deltas.length > d0, "flow");
  for (const m of [...quotes.slice(q0), ...trades.slice(t0), ...deltas.slice(d0)]) {
    assert.match(m.topic, /^md\.(quote|trade|book_delta)\/(AAPL|MSFT)$/);
  }
  const t = decodeMessage(trades[t0]!, TradeSchema);
  assert.match(t.price, /^\d+(\.\d{1,2})?$/, "trade prices are exact cents");
  const origins = [
    ...quotes.slice(q0).map((m) => decodeMessage(m, QuoteSchema).header?.originTimeNs),
    ...trades.slice(t0).map((m) => decodeMessage(m, TradeSchema).header?.originTimeNs),
    ...deltas.slice(d0).map((m) => decodeMessage(m, BookDeltaSchema).header?.originTimeNs),
  ];
  assert.ok(
    origins.every((o) => o !== undefined && o > 0n && o <= wallClockNs()),
    "every market-data message carries the time its frame was read",
  );
  assert.ok(t.tradeId >= 0n);
  for (const symbol of ["AAPL", "MSFT"]) {
    const versions = [...snapshotsOf(symbol), ...deltas.filter((m) => m.topic.endsWith(symbol))]
      .sort((a, b) => Number(a.publishTimeNs - b.publishTimeNs) || a.sequence - b.sequence)
      .map((m) =>
        m.topic.startsWith("md.book_snapshot")
          ? decodeMessage(m, BookSnapshotSchema).bookVersion
          : decodeMessage(m, BookDeltaSchema).bookVersion,
      );
    for (let i = 1; i < versions.length; i++) {
      assert.equal(versions[i], versions[i - 1]! + 1n, `${symbol} book versions consecutive`);
    }
  }
});

test("a book the feed left inconsistent is resynced from a fresh snapshot", async () => {
  // A forced quote far below the market moves the simulator's depth without a book message, so
  // the next deltas cross the stage's book: it must notice and ask for a new snapshot.
  const before = snapshotsOf("MSFT").length;
  const resyncs0 = await metric("tradepipe_md_resyncs_total");
  const asked = () =>
    h.logs.some((l) => l.symbol === "MSFT" && String(l.msg).startsWith("book needs a fresh"));
  h.sim.admin.setQuote("MSFT", "300.00", "300.02");
  for (let i = 0; i < 200 && !asked(); i++) {
    h.sim.admin.advance(200);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(asked(), "the stage asked for a fresh MSFT book");
  assert.ok((await metric("tradepipe_md_resyncs_total")) > resyncs0, "counted in resyncs_total");
  await waitFor(() => snapshotsOf("MSFT").length > before, "a fresh MSFT snapshot");
  const snap = decodeMessage(snapshotsOf("MSFT").at(-1)!, BookSnapshotSchema);
  const state = h.sim.admin.state() as { quotes: Record<string, { bp: string; ap: string }> };
  assert.ok(Number(snap.bids[0]!.price) < Number(snap.asks[0]!.price), "not crossed");
  assert.ok(Math.abs(Number(snap.bids[0]!.price) - Number(state.quotes.MSFT!.bp)) < 5);
});

test("after the simulator drops the stream, the stage reconnects and data flows again", async () => {
  await waitFor(() => md.readiness.report().ready, "ready before the disconnect");
  const snaps = snapshots.length;
  assert.ok(h.sim.admin.disconnectStreams("data") >= 1);
  await waitFor(() => snapshots.length >= snaps + 2, "snapshots after resubscribing");
  await waitFor(() => md.readiness.report().ready, "ready again");
  assert.ok((await metric("tradepipe_md_feed_disconnects_total")) >= 1);
  const from = quotes.length;
  h.sim.admin.setQuote("MSFT", "301.10", "301.13");
  await waitFor(() => quotes.length > from, "a quote after the reconnect");
  const q = decodeMessage(quotes.at(-1)!, QuoteSchema);
  assert.deepEqual([q.symbol, q.bidPrice, q.askPrice], ["MSFT", "301.1", "301.13"]);
});

test("the stage publishes bus heartbeats", async () => {
  await waitFor(() => heartbeats.length > 0, "a heartbeat", 5_000);
  const hb = decodeMessage(heartbeats[0]!, HeartbeatSchema);
  assert.equal(hb.header?.source, "market-data");
  assert.ok((hb.header?.eventTimeNs ?? 0n) > 0n);
});

test("with tracing on, each market event starts its own trace", async (t) => {
  const traced = await startHarness({
    sim: { symbols: ["AAPL"], clock: "manual" },
    spec: { observability: { otlpEndpoint: "http://127.0.0.1:9/v1/traces" } },
  });
  t.after(() => traced.close());
  const seen = traced.record(["md.quote/*"]);
  await traced.start("market-data");
  traced.sim.admin.setQuote("AAPL", "190.00", "190.02");
  traced.sim.admin.setQuote("AAPL", "190.01", "190.03");
  await waitFor(() => seen.length >= 2, "two quotes");
  const traces = seen.map((m) =>
    parseTraceparent(decodeMessage(m, QuoteSchema).header!.traceparent),
  );
  assert.ok(traces[0] && traces[1], "valid traceparents");
  assert.notEqual(traces[0].traceId, traces[1].traceId);
});

test("a silent feed makes the stage not ready, then reconnects; data makes it ready again", async (t) => {
  const saved = { ...MARKET_DATA_SETTINGS };
  Object.assign(MARKET_DATA_SETTINGS, {
    heartbeatMs: 50,
    feedStaleAfterMs: 300,
    reconnectAfterMs: 1_000,
  });
  const quiet = await startHarness({ sim: { symbols: ["AAPL"], clock: "manual" } });
  t.after(() => quiet.close());
  let stage: StageInstance;
  try {
    stage = await quiet.start("market-data");
  } finally {
    Object.assign(MARKET_DATA_SETTINGS, saved); // read at start: the stage keeps its copy
  }
  const reasons = () => stage.readiness.report().reasons.join("; ");
  // The simulator's clock stands still: after the book snapshot nothing arrives.
  await waitFor(() => reasons().includes("feed stale"), "readiness to report a stale feed");
  await waitFor(
    () => quiet.logs.some((l) => l.msg === "feed silent: reconnecting"),
    "a reconnect after the silence",
  );
  await waitFor(() => stage.readiness.report().ready, "ready once reconnected", 10_000);
  await waitFor(() => reasons().includes("feed stale"), "stale again: still no data");
  quiet.sim.admin.setQuote("AAPL", "190.00", "190.02");
  await waitFor(() => stage.readiness.report().ready, "ready with data");
});
