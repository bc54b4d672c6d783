/**
 * A journal longer than one replay batch, on real Postgres: a term that ran a while with its
 * audit rows held back (Postgres out of disk, or away) leaves a journal of hundreds of records,
 * and an order's records can fall on both sides of a batch boundary.
 *
 * Promised: after the replay every order row stands as its last journaled record left it. The
 * first batch stamps the rows it writes with the replaying term's epoch; a later batch of the
 * same journal must still move them on (it used to be refused as "a newer term's row", leaving
 * an order `created` that the journal shows sent or refused — the next term then sent it again).
 * The same holds when an earlier replay committed its first batches and failed on a later one
 * (a full disk), and the next term replays the journal again.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { acquireLeadership } from "../../services/core/db/leadership.ts";
import { createLogger } from "../../services/core/telemetry/index.ts";
import type {
  AuditRecord,
  Order,
  OrderStatus,
} from "../../services/execution-engine/core/index.ts";
import { encodeAudit } from "../../services/execution-engine/journal-records.ts";
import { openJournal, replayJournals } from "../../services/execution-engine/recovery.ts";
import { type AuditWrite, ExecutionStore, STAGE } from "../../services/execution-engine/store.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

const dir = mkdtempSync(join(tmpdir(), "tp-replay-batches-"));
const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
  rmSync(dir, { recursive: true, force: true });
});
const log = createLogger({ name: "replay-batches-test", level: "silent" });
const prefix = "tp-5eed0001-";
const T0 = 1_772_000_000_000_000_000n;

function orderOf(id: string, status: OrderStatus): Order {
  return {
    clientOrderId: id,
    signalId: id.slice(prefix.length + 1),
    correlationId: `c-${id}`,
    symbol: "AAPL",
    side: "buy",
    qty: 1_000_000n,
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: 190_010_000n,
    status,
    brokerOrderId: null,
    filledQty: 0n,
    filledNotional: 0n,
    attempts: status === "Created" ? 0 : 1,
    awaiting: "none",
    cancelRequested: false,
    createdNs: T0,
    updatedNs: T0,
  };
}

/** step: one audit write moving `id` from `from` to `to`, as the core journals it. */
function step(
  id: string,
  seq: number,
  event: string,
  from: OrderStatus | null,
  to: OrderStatus,
  detail: Record<string, string> = {},
): AuditWrite {
  const record: AuditRecord = {
    seq,
    clientOrderId: id,
    correlationId: `c-${id}`,
    event,
    fromStatus: from,
    toStatus: to,
    attempt: to === "Created" ? 0 : 1,
    detail,
    timeNs: T0 + BigInt(seq),
  };
  return { record, order: orderOf(id, to) };
}

/**
 * termJournal: the journal of term 1 — `fillers` orders created and never sent, then order X
 * whose `intent` is the filler run's last record and whose send and refusal follow it.
 */
function writeTermJournal(dbId: string, fillers: number): string {
  const { journal, path } = openJournal({
    dir,
    prefix,
    epoch: 1,
    dbId,
    nowNs: T0,
    onSyncError: () => {},
  });
  let seq = 0;
  for (let i = 0; i < fillers; i++) {
    journal.append(encodeAudit(step(`${prefix}sF${i}`, ++seq, "intent", null, "Created")));
  }
  const x = `${prefix}sX`;
  journal.append(encodeAudit(step(x, ++seq, "intent", null, "Created")));
  journal.append(encodeAudit(step(x, ++seq, "send", "Created", "Submitted")));
  journal.append(
    encodeAudit(
      step(x, ++seq, "engine_refused", "Submitted", "Rejected", { reason: "audit_backlog" }),
    ),
  );
  journal.close();
  return path;
}

/**
 * asTerm runs `body` as the next term of the engine's leadership on `db` (its epoch), and gives
 * the leadership up afterwards whatever happens (a held lock would keep the database open).
 */
async function asTerm<T>(db: TestDatabase, body: (epoch: number) => Promise<T>): Promise<T> {
  const term = await acquireLeadership(db.pool, STAGE, "replay-test", { renewIntervalMs: 0 });
  assert.ok(term, "the test leads the stage");
  try {
    return await body(term.epoch);
  } finally {
    await term.release();
  }
}

async function statusOf(db: TestDatabase, id: string): Promise<string | undefined> {
  const r = await db.pool.query<{ status: string }>(
    "SELECT status FROM orders WHERE client_order_id = $1",
    [id],
  );
  return r.rows[0]?.status;
}

test("an order whose records straddle two replay batches ends as its last record left it", async () => {
  const db = await withMigratedDatabase();
  dbs.push(db);
  // 499 fillers: X's intent is record 500, the last of the first batch of 500.
  const dbId = await asTerm(db, async (epoch) => {
    const id = await new ExecutionStore(db.pool, epoch).databaseIdentity();
    writeTermJournal(id, 499);
    return id;
  });
  const report = await asTerm(db, (epoch) =>
    replayJournals({ dir, prefix, epoch, dbId, store: new ExecutionStore(db.pool, epoch), log }),
  );
  assert.equal(report.records, 502);
  assert.equal(await statusOf(db, `${prefix}sX`), "rejected", "X as its last record left it");
  const audit = await db.pool.query(
    "SELECT event_type FROM order_audit_trail WHERE client_order_id = $1 ORDER BY id",
    [`${prefix}sX`],
  );
  assert.deepEqual(
    audit.rows.map((r) => r.event_type),
    ["intent", "send", "engine_refused"],
  );
});

test("a replay that failed after its first batch, replayed again by the next term, ends the same", async () => {
  const db = await withMigratedDatabase();
  dbs.push(db);
  let path = "";
  const dbId = await asTerm(db, async (epoch) => {
    const id = await new ExecutionStore(db.pool, epoch).databaseIdentity();
    path = writeTermJournal(id, 499);
    return id;
  });

  // Term 2's replay commits the first batch, then the database refuses the second (as a full
  // disk does) and the term ends; the journal stays for the next one.
  await asTerm(db, async (epoch) => {
    const real = new ExecutionStore(db.pool, epoch);
    let batches = 0;
    const failing = Object.assign(Object.create(real) as ExecutionStore, {
      writeBatch: (...args: Parameters<ExecutionStore["writeBatch"]>) => {
        if (++batches > 1) {
          return Promise.reject(
            Object.assign(new Error("could not extend file: No space left on device"), {
              code: "53100",
            }),
          );
        }
        return real.writeBatch(...args);
      },
    });
    await assert.rejects(
      replayJournals({ dir, prefix, epoch, dbId, store: failing, log }),
      /No space left on device/,
    );
  });
  assert.equal(await statusOf(db, `${prefix}sF0`), "created", "the first batch committed");
  assert.equal(existsSync(path), true, "the journal stays for the next term");

  await asTerm(db, (epoch) =>
    replayJournals({ dir, prefix, epoch, dbId, store: new ExecutionStore(db.pool, epoch), log }),
  );
  assert.equal(await statusOf(db, `${prefix}sX`), "rejected", "X as its last record left it");
  assert.equal(existsSync(path), false, "the replayed journal is removed");
});
