/**
 * The execution-engine when the disk under its journal fills up (an SRE's "fill the disk"),
 * with real parts: a small tmpfs that really runs out of space holds the journal, the simulator
 * over HTTP and WebSocket is the broker, Postgres takes the written-behind rows.
 *
 * Promised: an order whose journal append fails is never sent (journal-ahead); the engine stops
 * trading and says why; every order the broker holds is in Postgres with its audit rows; once
 * space is back a new engine recovers from the journal and trades, and the refused intent never
 * reaches the broker under any id.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { OrderEvent } from "../../services/core/messages/index.ts";
import { FRAME_HEADER_BYTES, readJournal } from "../../services/execution-engine/journal.ts";
import { decodeEntry } from "../../services/execution-engine/journal-records.ts";
import { simState } from "../e2e/support.ts";
import { fillDisk, mountTmpfs, requireRoot } from "../support/small-disk.ts";
import {
  auditOf,
  coid,
  eventually,
  orderRow,
  publishIntent,
  publishQuote,
  updatesOf,
} from "./execution-support.ts";
import { type Harness, startHarness, waitFor } from "./stage-harness.ts";

let mountPoint = "";
let unmount = () => {};
let h: Harness | undefined;

before(() => {
  requireRoot("this test mounts a small tmpfs to fill the journal's disk for real");
  mountPoint = join(mkdtempSync(join(tmpdir(), "tp-engine-disk-full-")), "disk");
  unmount = mountTmpfs(mountPoint, "512k");
  // The harness keeps a journal directory the test chose (useTestJournalDir).
  process.env.TRADEPIPE_JOURNAL_DIR = mountPoint;
});

after(async () => {
  await h?.close();
  delete process.env.TRADEPIPE_JOURNAL_DIR;
  if (mountPoint === "") return;
  unmount();
  rmSync(dirname(mountPoint), { recursive: true, force: true });
});

/** journalFile: the one journal file of the running engine's term. */
function journalFile(): string {
  const names = readdirSync(mountPoint).filter((n) => n.startsWith("execution-"));
  assert.equal(names.length, 1, `one journal file: ${names.join(", ")}`);
  return join(mountPoint, names[0]!);
}

/** lastIntentFrameBytes: the size on disk of the last `intent` audit record in `path`. */
function lastIntentFrameBytes(path: string): number {
  let bytes = 0;
  for (const r of readJournal(path).records) {
    const entry = decodeEntry(r);
    if (entry.kind === "audit" && entry.write.record.event === "intent") {
      bytes = r.length + FRAME_HEADER_BYTES;
    }
  }
  return bytes;
}

test("a full journal disk stops the engine before it sends; after space is back it recovers and nothing was sent unjournaled", async () => {
  h = await startHarness({
    sim: { symbols: ["AAPL", "MSFT"], clock: "manual", partialFillProbability: 0 },
  });
  h.sim.admin.setQuote("AAPL", "190.00", "190.02");
  const seen = h.record(["order.update/*"]);
  const engine = await h.start("execution-engine");
  await waitFor(() => engine.readiness.report().ready, "the engine ready", 30_000);
  publishQuote(h.bus, "AAPL", "190.00", "190.02");

  const filled = (id: string) => updatesOf(seen, id).some((u) => u.event === OrderEvent.FILL);
  const trade = async (signalId: string) => {
    const id = publishIntent(h!.bus, { signalId, decisionPrice: "190.01" });
    await waitFor(
      () => filled(id) || !engine.readiness.report().ready,
      `${id} filled or the engine stopped`,
      20_000,
    );
    return id;
  };

  // Orders go on, the disk not yet full, until the room left in the journal's last block is
  // smaller than an order's intent record (the first record of what is journaled before its
  // send). Then the disk fills: the next order's records cannot be appended (a file grows a
  // block at a time on tmpfs), deterministically at the append that precedes its send.
  const sent: string[] = [];
  let refused = "";
  let filler = "";
  for (let i = 0; i < 200 && refused === ""; i++) {
    const path = journalFile();
    const { size, blksize } = statSync(path);
    const room = (blksize - (size % blksize)) % blksize;
    const intent = lastIntentFrameBytes(path);
    if (intent > 0 && room < intent - 16) filler = fillDisk(mountPoint);
    const id = await trade(`f-${i}`);
    if (filled(id)) sent.push(id);
    else refused = id;
    assert.equal(refused !== "", filler !== "", `${id}: refused exactly when the disk was full`);
  }
  assert.notEqual(refused, "", "the journal's last block filled up within 200 orders");
  assert.ok(sent.length > 0, "orders filled before the disk was full");

  const report = engine.readiness.report();
  assert.equal(report.ready, false);
  assert.match(report.reasons.join("; "), /journal append failed: .*(ENOSPC|no space)/i);
  // The instance fails (its process would exit for its supervisor to restart it) and lets
  // go of the stage's leadership, so that a restarted engine can lead and recover.
  const failedInTime = await Promise.race([
    engine.failed.then(
      () => "resolved",
      (err: Error) => err.message,
    ),
    new Promise<string>((r) => setTimeout(() => r("still running after 30 s"), 30_000).unref()),
  ]);
  assert.match(failedInTime, /journal append failed: .*(ENOSPC|no space)/i);

  // Journal-ahead: the order whose records could not be journaled never reached the broker.
  const submits = simState(h.sim).order_requests.filter(
    (r) => r.kind === "submit" && r.client_order_id === refused,
  );
  assert.deepEqual(submits, [], `${refused} was sent without its journal record`);
  const atBroker = () =>
    simState(h!.sim).orders.filter((o) => o.client_order_id.startsWith(coid("f-").slice(0, 12)));
  assert.ok(
    !atBroker().some((o) => o.client_order_id === refused),
    `${refused} was sent without its journal record`,
  );
  assert.deepEqual(
    atBroker()
      .map((o) => o.client_order_id)
      .sort(),
    [...sent].sort(),
    "the broker holds exactly the orders that filled",
  );
  for (const id of sent) {
    await eventually(
      async () => (await orderRow(h!.db.pool, id))?.status === "filled",
      `${id} filled in the database`,
      20_000,
    );
    assert.ok((await auditOf(h.db.pool, id)).length > 0, `${id} has its audit rows`);
  }
  // What is left of the journal reads clean: no torn frame for the next engine to trip on.
  for (const name of readdirSync(mountPoint).filter((n) => n.startsWith("execution-"))) {
    assert.equal(readJournal(join(mountPoint, name)).tail, "clean", `${name} ends clean`);
  }

  // The operator frees space; a new engine recovers and trades. The refused intent is never
  // sent under any id (a redelivery of it would be the risk-manager's to decide again).
  rmSync(filler);
  const recovered = await h.start("execution-engine");
  await waitFor(() => recovered.readiness.report().ready, "the recovered engine ready", 30_000);
  publishQuote(h.bus, "AAPL", "190.00", "190.02");
  const next = publishIntent(h.bus, { signalId: "f-after", decisionPrice: "190.01" });
  await waitFor(() => filled(next), `${next} filled after recovery`, 20_000);
  assert.ok(!atBroker().some((o) => o.client_order_id === refused), `${refused} never sent`);
  assert.deepEqual(
    atBroker()
      .map((o) => o.client_order_id)
      .sort(),
    [...sent, next].sort(),
    "no order was sent twice or under a second id",
  );
});
