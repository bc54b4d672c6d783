/**
 * Colocated pods lead together: two "pods" of five stage instances each, every instance with
 * its own pool (as its own process would have), on a real Postgres. All leaders sit in one pod;
 * the other pod's stages stand by; a stage that falls over in the leading pod leads again from
 * there; the end of the anchor's session hands the whole pipeline to the other pod.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Leadership, waitForLeadership } from "../../services/core/db/leadership.ts";
import {
  joinLeadershipGroup,
  type LeadershipGroup,
} from "../../services/core/db/leadership-group.ts";
import { isTradepipeError } from "../../services/core/errors.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
const pools: pg.Pool[] = [];
before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db.drop();
});

/** A stage instance of a pod: its own pool, its group membership, its wait for leadership. */
interface Member {
  pod: string;
  stage: string;
  pool: pg.Pool;
  group: LeadershipGroup;
  stop: AbortController;
  leadership: Promise<Leadership | null>;
}

const RENEW_MS = 200;

function member(pod: string, stage: string): Member {
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  pool.on("error", () => {});
  pools.push(pool);
  const group = joinLeadershipGroup(pool, pod);
  const stop = new AbortController();
  const mayLead = async () => ((await group.leading()) ? null : "another pod leads");
  const leadership = waitForLeadership(pool, stage, `${pod}/${stage}`, {
    pollMs: 50,
    renewIntervalMs: RENEW_MS,
    mayLead,
    signal: stop.signal,
  });
  return { pod, stage, pool, group, stop, leadership };
}

function pod(name: string): Member[] {
  return STAGE_PROCESSES.map((s) => member(name, s));
}

async function holders(): Promise<Record<string, string>> {
  const r = await db.pool.query<{ stage: string; holder: string }>(
    "SELECT stage, holder FROM stage_leadership",
  );
  return Object.fromEntries(r.rows.map((x) => [x.stage, x.holder.split("/")[0] ?? ""]));
}

async function stopAll(members: Member[]): Promise<void> {
  for (const m of members) m.stop.abort();
  await Promise.all(
    members.map(async (m) => {
      const lead = await m.leadership;
      await lead?.release();
      await m.group.release();
    }),
  );
}

async function resetTables(): Promise<void> {
  await db.pool.query("DELETE FROM leadership_group");
}

test("two colocated pods starting together: every stage leads from the same pod", async () => {
  for (let round = 0; round < 3; round++) {
    await resetTables();
    // Interleaved starts, so both pods race for every stage.
    const a: Member[] = [];
    const b: Member[] = [];
    for (const s of STAGE_PROCESSES) {
      if (round % 2 === 0) {
        a.push(member("pod-a", s));
        b.push(member("pod-b", s));
      } else {
        b.push(member("pod-b", s));
        a.push(member("pod-a", s));
      }
    }
    const all = [...a, ...b];
    const deadline = Date.now() + 15_000;
    while ((await leadingMembers(all)).length < 5 && Date.now() < deadline) await sleep(50);
    const winners = await leadingMembers(all);
    assert.equal(winners.length, 5, "one leader per stage");
    assert.equal(new Set(winners.map((m) => m.pod)).size, 1, "all from one pod");
    // The other pod keeps standing by.
    await sleep(RENEW_MS * 3);
    assert.equal((await leadingMembers(all)).length, 5);
    const group = await a[0]?.group.leader();
    assert.equal(group, winners[0]?.pod);
    await stopAll(all);
  }
});

test("a stage that falls over in the leading pod leads again from that pod", async () => {
  await resetTables();
  const a = pod("pod-a");
  await Promise.all(a.map((m) => m.leadership));
  const b = pod("pod-b");
  await sleep(RENEW_MS * 2);
  // The signal-bridge of pod A goes (not the anchor: the anchor is whoever took the group lock).
  const victim = a.find((m) => !m.group.anchor);
  assert.ok(victim);
  const lead = await victim.leadership;
  await lead?.release();
  await victim.group.release();
  const again = member("pod-a", victim.stage);
  const relead = await withTimeout(again.leadership, 10_000, "the restarted stage to lead");
  assert.ok(relead);
  assert.equal((await holders())[victim.stage], "pod-a");
  const others = a.filter((m) => m !== victim);
  assert.equal(
    (await leadingMembers(b)).length,
    0,
    "pod B's stages stand by while pod A still leads",
  );
  await stopAll([...others, again, ...b]);
});

test("the end of the anchor's session hands the whole pipeline to the other pod", async () => {
  await resetTables();
  const a = pod("pod-a");
  const leadsA = await Promise.all(a.map((m) => m.leadership));
  const b = pod("pod-b");
  await sleep(RENEW_MS * 2);
  assert.equal((await leadingMembers(b)).length, 0);
  const anchor = a.find((m) => m.group.anchor);
  assert.ok(anchor, "one stage of pod A holds the group lock");
  assert.equal(a.filter((m) => m.group.anchor).length, 1);
  const row = await db.pool.query<{ holder: string; anchor_pid: number }>(
    "SELECT holder, anchor_pid FROM leadership_group",
  );
  assert.equal(row.rows[0]?.holder, "pod-a");

  // The anchor's session dies as a crashed process's would: the server ends it.
  const t0 = Date.now();
  await db.pool.query("SELECT pg_terminate_backend($1)", [row.rows[0]?.anchor_pid]);
  // Every pod-A leader learns it must step down: the anchor from its own dead connection (or
  // renewal), the others from the group check on renewal.
  const reasons = await withTimeout(
    Promise.all(leadsA.map((l) => l?.lost)),
    10_000,
    "pod A's stages to give their leadership up",
  );
  for (const [i, reason] of reasons.entries()) {
    if (a[i] === anchor) continue;
    assert.ok(
      isTradepipeError(reason, "TP_ERR_LEADERSHIP_MOVED"),
      `${a[i]?.stage}: ${reason?.message}`,
    );
  }
  // They step down as a stage process does when `lost` settles: release and stop.
  await Promise.all(leadsA.map((l) => l?.release()));
  await Promise.all(a.map((m) => m.group.release()));
  const leadsB = await withTimeout(
    Promise.all(b.map((m) => m.leadership)),
    10_000,
    "pod B's stages to lead",
  );
  const handover = Date.now() - t0;
  assert.ok(leadsB.every((l) => l !== null));
  assert.deepEqual(
    Object.values(await holders()).filter((p) => p !== "pod-b"),
    [],
    "every stage now led from pod B",
  );
  for (const [i, l] of leadsB.entries()) {
    assert.ok((l?.epoch ?? 0) > (leadsA[i]?.epoch ?? 0), "a new fencing epoch");
  }
  process.stdout.write(`# pipeline handed from pod A to pod B in ${handover} ms\n`);
  await stopAll(b);
});

test("a record whose anchor no longer holds the lock is not trusted", async () => {
  await resetTables();
  // A leftover row (its session long gone): the group it names does not lead.
  await db.pool.query(
    "INSERT INTO leadership_group (id, holder, anchor_pid, epoch) VALUES (1, 'pod-gone', 2147483000, 7)",
  );
  const x = member("pod-x", "risk-manager");
  assert.equal(await x.group.leader(), null);
  const lead = await withTimeout(x.leadership, 10_000, "pod X to lead");
  assert.ok(lead);
  assert.equal(await x.group.leader(), "pod-x");
  const r = await db.pool.query<{ epoch: string }>("SELECT epoch FROM leadership_group");
  assert.equal(r.rows[0]?.epoch, "8");
  await stopAll([x]);
});

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const v = await Promise.race([p, Promise.resolve(marker)]);
  return v !== marker;
}

async function leadingMembers(members: Member[]): Promise<Member[]> {
  const out: Member[] = [];
  for (const m of members) {
    if (await isSettled(m.leadership)) {
      const l = await m.leadership;
      if (l !== null) out.push(m);
    }
  }
  return out;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
