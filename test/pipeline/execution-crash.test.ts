/**
 * Crash safety of the journal-ahead order path, with real parts: the simulator over HTTP and
 * WebSocket, a migrated Postgres, and the engine in a process of its own (engine-child.ts)
 * killed with SIGKILL at each window of the order path (fault-points.ts):
 *
 * - after the journal append (the POST not written), after the POST's bytes went to the socket,
 *   after the broker's answer arrived;
 * - after the socket write with the journal then cut back to its header (the page cache lost in
 *   a power cut): recovery goes through the broker's order listing;
 * - a broker that accepts an order and drops the connection before answering (a TCP proxy);
 * - Postgres unable to take the audit rows (the table locked): orders go on, Postgres behind,
 *   until the backlog bound holds new orders with the reason visible, and they resume once the
 *   rows are in.
 *
 * After each, a new engine recovers, and: every order of this pipeline the broker holds is in the
 * database with its audit rows, none was sent twice or under a second id, and the fills and the
 * orders' state equal the broker's.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, truncateSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { OrderEvent } from "../../services/core/messages/index.ts";
import { fromDecimal } from "../../services/core/money.ts";
import { readJournal } from "../../services/execution-engine/journal.ts";
import { EXECUTION_SETTINGS } from "../../services/execution-engine/stage.ts";
import { duplicateSends, simState } from "../e2e/support.ts";
import {
  auditOf,
  coid,
  eventually,
  fillsOf,
  orderRow,
  publishIntent,
  publishQuote,
  updatesOf,
} from "./execution-support.ts";
import { type Harness, startHarness, useTestJournalDir, waitFor } from "./stage-harness.ts";

const SIM = { symbols: ["AAPL", "MSFT"], clock: "manual" as const, partialFillProbability: 0 };
const CHILD = fileURLToPath(new URL("./engine-child.ts", import.meta.url));
const PREFIX = coid("x").slice(0, 12);
const journalDir = useTestJournalDir();

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(): Promise<Harness> {
  h = await startHarness({ sim: SIM });
  h.sim.admin.setQuote("AAPL", "190.00", "190.02");
  return h;
}

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** runChild runs an engine process that sends `signals` in turn, and waits for its end. */
function runChild(h: Harness, o: { signals: string[]; fault?: string; tradingUrl?: string }) {
  return new Promise<ChildExit>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        TP_CHILD_DATABASE_URL: h.db.url,
        TP_CHILD_TRADING_URL: o.tradingUrl ?? h.sim.tradingUrl,
        TP_CHILD_SIGNALS: o.signals.join(","),
        TRADEPIPE_JOURNAL_DIR: journalDir,
        TRADEPIPE_EXECUTION_FAULT: o.fault ?? "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** ourJournals: this test process's journal files of the test pipeline. */
function ourJournals(): string[] {
  return readdirSync(journalDir)
    .filter((n) => n.startsWith(`execution-${PREFIX}`))
    .map((n) => join(journalDir, n));
}

/** recover starts a new engine in this process and waits until it trades. */
async function recover(h: Harness) {
  const engine = await h.start("execution-engine");
  await waitFor(() => engine.readiness.report().ready, "the recovered engine ready", 30_000);
  return engine;
}

const DB_STATUS: Record<string, string> = {
  filled: "filled",
  new: "new",
  accepted: "new",
  partially_filled: "partially_filled",
  canceled: "cancelled",
  rejected: "rejected",
};

/**
 * assertConsistent: the promises of the order path, checked against the broker. `sent` are
 * the signals that must have reached the broker, exactly once each.
 */
async function assertConsistent(h: Harness, sent: string[]): Promise<void> {
  const state = simState(h.sim);
  assert.deepEqual(duplicateSends(state), [], "no client_order_id was posted twice");
  const ours = state.orders.filter((o) => o.client_order_id.startsWith(PREFIX));
  const expected = new Set(sent.map((s) => coid(s)));
  for (const o of ours) {
    assert.ok(expected.has(o.client_order_id), `${o.client_order_id}: an order under another id`);
  }
  assert.deepEqual(
    ours.map((o) => o.client_order_id).sort(),
    [...expected].sort(),
    "every signal reached the broker exactly once",
  );
  for (const o of ours) {
    const id = o.client_order_id;
    const status = DB_STATUS[o.status] ?? o.status;
    await eventually(
      async () => (await orderRow(h.db.pool, id))?.status === status,
      `${id} ${status} in the database`,
      20_000,
    );
    const audit = await auditOf(h.db.pool, id);
    const events = audit.map((a) => a.event_type);
    assert.ok(
      events.includes("intent") || events.includes("adopted"),
      `${id}: audit rows from its intent or its adoption: ${events.join(",")}`,
    );
    await eventually(
      async () =>
        (await fillsOf(h.db.pool, id)).reduce((sum, f) => sum + fromDecimal(f.qty), 0n) ===
        fromDecimal(o.filled_qty),
      `${id}: fills in the database equal the broker's ${o.filled_qty}`,
      20_000,
    );
    const executions = state.fills
      .filter((f) => f.client_order_id === id)
      .map((f) => f.execution_id);
    const rows = (await fillsOf(h.db.pool, id)).map((f) => f.execution_id);
    assert.deepEqual(rows.sort(), executions.sort(), `${id}: one fill row per broker execution`);
  }
}

/**
 * crashAndRecover: the engine process dies at `fault` while sending the second of three.
 * `holdAudit`: no audit row reaches Postgres before the crash (the table is locked against
 * inserts until then), so the journal alone holds the orders.
 */
async function crashAndRecover(
  fault: string,
  o: { holdAudit?: boolean; afterCrash?: (journals: string[]) => void } = {},
) {
  const h = await harness();
  const signals = ["c-1", "c-2", "c-3"];
  const blocker = o.holdAudit ? await h.db.pool.connect() : undefined;
  await blocker?.query("BEGIN");
  await blocker?.query("LOCK TABLE order_audit_trail IN EXCLUSIVE MODE");
  let exit: ChildExit;
  try {
    exit = await runChild(h, { signals, fault: `${fault}:2` });
  } finally {
    // The dead engine's INSERT still waits on the lock, and Postgres would run it once the lock
    // goes (a server notices a vanished client only when it answers): end those sessions first,
    // so that no row of the dead process reaches Postgres.
    await blocker?.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    await blocker?.query("COMMIT");
    blocker?.release();
  }
  assert.equal(exit.signal, "SIGKILL", `the engine was killed at ${fault}:\n${exit.out}`);
  assert.match(exit.out, new RegExp(`filled ${coid("c-1")}`));
  assert.doesNotMatch(exit.out, new RegExp(`filled ${coid("c-2")}`));
  const journals = ourJournals();
  assert.equal(journals.length, 1, "the killed engine left its journal");
  o.afterCrash?.(journals);
  await recover(h);
  // c-2 was decided before the crash: whatever the window, it reaches the broker once.
  await waitFor(
    () =>
      simState(h.sim).orders.some(
        (o) => o.client_order_id === coid("c-2") && o.status === "filled",
      ),
    "c-2 filled at the broker",
    30_000,
  );
  await assertConsistent(h, ["c-1", "c-2"]);
  assert.deepEqual(ourJournals().length, 1, "the old journal was replayed and removed");
  return h;
}

describe("kill -9 of the engine process", { concurrency: false }, () => {
  test("after the journal append: the order never left; recovery sends it once", async () => {
    const h = await crashAndRecover("after_journal_append");
    const events = (await auditOf(h.db.pool, coid("c-2"))).map((a) => a.event_type);
    assert.ok(events.includes("not_at_broker"), events.join(","));
    assert.ok(events.includes("resend"), events.join(","));
  });

  test("after the socket write: the broker has the order; recovery finds it, never resends", async () => {
    const h = await crashAndRecover("after_socket_write");
    const events = (await auditOf(h.db.pool, coid("c-2"))).map((a) => a.event_type);
    assert.ok(events.includes("intent") && events.includes("send"), events.join(","));
    assert.ok(!events.includes("resend"), events.join(","));
  });

  test("after the broker's answer: recovery applies the broker's state", async () => {
    const h = await crashAndRecover("after_broker_answer");
    const events = (await auditOf(h.db.pool, coid("c-2"))).map((a) => a.event_type);
    assert.ok(!events.includes("resend"), events.join(","));
  });

  test("a journal cut back to its header (lost page cache), nothing in Postgres: the broker listing adopts both orders", async () => {
    const h = await crashAndRecover("after_socket_write", {
      holdAudit: true,
      afterCrash(journals) {
        const contents = readJournal(journals[0]!);
        assert.ok(contents.records.length > 3, "the journal held the orders before the cut");
        const header = contents.records[0]!;
        truncateSync(journals[0]!, 8 + header.length + 5); // the header and a torn frame
      },
    });
    for (const id of [coid("c-1"), coid("c-2")]) {
      const events = (await auditOf(h.db.pool, id)).map((a) => a.event_type);
      assert.equal(events[0], "adopted", `${id}: ${events.join(",")}`);
      assert.ok(!events.includes("resend"), events.join(","));
    }
    // Checked before trading resumed: the adopted orders' fills make the positions agree.
    const anomalies = await h.metrics.registry
      .getSingleMetric("tradepipe_order_anomalies_total")
      ?.get();
    const kinds = Object.fromEntries(
      (anomalies?.values ?? []).map((v) => [v.labels.kind, v.value]),
    );
    assert.equal(kinds.adopted_from_broker, 2);
    assert.equal(kinds.position_mismatch, undefined, JSON.stringify(kinds));
  });

  test("with nothing in Postgres before the kill, the journal alone brings every row back", async () => {
    const h = await crashAndRecover("after_socket_write", { holdAudit: true });
    const events = (await auditOf(h.db.pool, coid("c-1"))).map((a) => a.event_type);
    for (const e of ["intent", "send", "fill"]) assert.ok(events.includes(e), events.join(","));
    assert.ok(!events.includes("adopted"), events.join(","));
  });
});

/**
 * dropAfterAccept: a TCP proxy before the simulator that forwards everything, but cuts the
 * connection of the first order POST as soon as the broker's answer starts to come back: the
 * broker accepted the order, the engine never hears it.
 */
function dropAfterAccept(target: URL): Promise<{ url: string; server: Server; dropped(): number }> {
  let armed = true;
  let drops = 0;
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    let cutNextAnswer = false;
    client.on("data", (d) => {
      if (armed && d.toString("latin1").startsWith("POST /v2/orders")) {
        armed = false;
        cutNextAnswer = true;
      }
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (cutNextAnswer) {
        drops++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}`, server, dropped: () => drops });
    });
  });
}

describe("a broker that accepts an order and drops the connection", () => {
  let proxy: Awaited<ReturnType<typeof dropAfterAccept>> | undefined;
  after(() => proxy?.server.close());

  test("the order is not sent again: its state comes from the broker", async () => {
    const h = await harness();
    proxy = await dropAfterAccept(new URL(h.sim.tradingUrl));
    const exit = await runChild(h, { signals: ["d-1", "d-2"], tradingUrl: proxy.url });
    assert.equal(exit.code, 0, exit.out);
    assert.equal(proxy.dropped(), 1, "the first POST's answer was cut");
    const events = (await auditOf(h.db.pool, coid("d-1"))).map((a) => a.event_type);
    // Either the POST's failure came first (ambiguous: looked up by id) or the stream's events
    // did (the failure is then ignored): never a second POST.
    assert.ok(
      events.includes("send_ambiguous") || events.includes("send_failure_ignored"),
      events.join(","),
    );
    assert.ok(!events.includes("resend"), events.join(","));
    await assertConsistent(h, ["d-1", "d-2"]);
    assert.equal(ourJournals().length, 0, "a clean stop leaves no journal to replay");
  });
});

describe("Postgres unable to take the audit rows", () => {
  test("orders go out ahead of Postgres until the backlog bound holds them; they resume once it drains", async () => {
    const h = await harness();
    const saved = { ...EXECUTION_SETTINGS };
    EXECUTION_SETTINGS.auditBacklogMaxRows = 6;
    const engine = await recover(h);
    const seen = h.record(["order.update/*"]);
    publishQuote(h.bus, "AAPL", "190.00", "190.02");
    // A transaction holding the audit table: every write-behind statement waits on it.
    const blocker = await h.db.pool.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE order_audit_trail IN ACCESS EXCLUSIVE MODE");
      const first = publishIntent(h.bus, { signalId: "p-1", decisionPrice: "190.01" });
      await waitFor(
        () => updatesOf(seen, first).some((u) => u.event === OrderEvent.FILL),
        "p-1 filled while Postgres takes nothing",
      );
      assert.equal(simState(h.sim).orders.filter((o) => o.client_order_id === first).length, 1);
      // Its rows are still waiting: the order went out ahead of them.
      assert.ok(Number(engine.lastReport().auditBacklog) > 0);

      // Over the bound (p-1 alone left 6+ records): the next order is held, and why is visible.
      await waitFor(() => engine.lastReport().ordersHeld === true, "orders held");
      const held = publishIntent(h.bus, { signalId: "p-2", decisionPrice: "190.01" });
      await waitFor(() => updatesOf(seen, held).length > 0, "p-2 refused");
      assert.equal(updatesOf(seen, held)[0]!.event, OrderEvent.REJECTED);
      assert.match(updatesOf(seen, held)[0]!.reason, /^audit_backlog/);
      assert.equal(simState(h.sim).orders.filter((o) => o.client_order_id === held).length, 0);
      const ready = engine.readiness.report();
      assert.equal(ready.ready, false);
      assert.match(JSON.stringify(ready), /new orders held: audit backlog \d+ rows/);
      assert.match(String(engine.lastReport().detail), /orders held: audit backlog/);
      const halted = await h.metrics.registry
        .getSingleMetric("tradepipe_audit_backlog_halted")
        ?.get();
      assert.equal(halted?.values[0]?.value, 1);
    } finally {
      await blocker.query("COMMIT");
      blocker.release();
    }
    await waitFor(() => engine.lastReport().ordersHeld === false, "orders resumed", 30_000);
    assert.equal(engine.readiness.report().ready, true);
    const next = publishIntent(h.bus, { signalId: "p-3", decisionPrice: "190.01" });
    await waitFor(() => updatesOf(seen, next).some((u) => u.event === OrderEvent.FILL), "p-3");
    await assertConsistent(h, ["p-1", "p-3"]);
    // The refused order's rows are stored too: nothing the engine decided is lost.
    await eventually(
      async () => (await orderRow(h.db.pool, coid("p-2")))?.status === "rejected",
      "p-2 rejected in the database",
    );
    Object.assign(EXECUTION_SETTINGS, saved);
  });
});
