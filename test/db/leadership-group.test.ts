/**
 * Colocated pods lead together: two "pods" of five stage instances each, every instance with
 * its own pool (as its own process would have), on a real Postgres. All leaders sit in one pod;
 * the other pod's stages stand by; a stage that falls over in the leading pod leads again from
 * there; the end of the anchor's session hands the whole pipeline to the other pod.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
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
  // A pool's end() waits for its checked-out clients; the database drop below ends them anyway.
  await Promise.race([Promise.all(pools.map((p) => p.end())), sleep(5_000)]);
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
  /** The member's process is gone: it asks nothing more (see podDies). */
  dead: boolean;
}

const RENEW_MS = 200;

/** Every member a test started; each test's members are stopped after it, however it ended. */
const live: Member[] = [];
afterEach(async () => {
  await stopAll(live.splice(0));
});

function member(pod: string, stage: string): Member {
  // application_name marks the member's sessions, so a test can end them as a crash would.
  const pool = new pg.Pool({
    connectionString: db.url,
    max: 3,
    application_name: `${pod}/${stage}`,
  });
  pool.on("error", () => {});
  pools.push(pool);
  const group = joinLeadershipGroup(pool, pod);
  const stop = new AbortController();
  const m: Member = {
    pod,
    stage,
    pool,
    group,
    stop,
    leadership: Promise.resolve(null),
    dead: false,
  };
  const mayLead = async () => {
    if (m.dead) return "this process is gone";
    return (await group.leading()) ? null : "another pod leads";
  };
  live.push(m);
  m.leadership = waitForLeadership(pool, stage, `${pod}/${stage}`, {
    pollMs: 50,
    renewIntervalMs: RENEW_MS,
    mayLead,
    signal: stop.signal,
  });
  return m;
}

/** crash ends every session of `members` at once and keeps them from acting again. */
async function crash(members: Member[]): Promise<void> {
  for (const m of members) {
    m.dead = true;
    m.stop.abort();
  }
  await db.pool.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1)",
    [members.map((m) => `${m.pod}/${m.stage}`)],
  );
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

/** podALeads: pod A's five stages lead, then pod B's five start and stand by. */
async function podALeads() {
  await resetTables();
  const a = pod("pod-a");
  const leadsA = await Promise.all(a.map((m) => m.leadership));
  const b = pod("pod-b");
  await sleep(RENEW_MS * 2);
  return { a, b, leadsA };
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
    const winners = await fiveLeaders(all);
    assert.equal(new Set(winners.map((m) => m.pod)).size, 1, "all from one pod");
    // The other pod keeps standing by.
    await sleep(RENEW_MS * 3);
    assert.equal((await leadingMembers(all)).length, 5);
    assert.equal(await a[0]?.group.leader(), winners[0]?.pod);
    await stopAll(live.splice(0));
  }
});

test("a stage that falls over in the leading pod leads again from that pod", async () => {
  const { a, b } = await podALeads();
  // A stage of pod A that is not the anchor (the anchor is whoever took the group lock) goes.
  const victim = a.find((m) => !m.group.anchor);
  assert.ok(victim);
  await (await victim.leadership)?.release();
  await victim.group.release();
  const again = member("pod-a", victim.stage);
  assert.ok(await withTimeout(again.leadership, 10_000, "the restarted stage to lead"));
  assert.equal((await holders())[victim.stage], "pod-a");
  assert.equal((await leadingMembers(b)).length, 0, "pod B stands by while pod A leads");
});

test("when the leading pod dies, the other pod's stages all take over", async () => {
  const { a, b, leadsA } = await podALeads();
  assert.equal((await leadingMembers(b)).length, 0);
  assert.equal(a.filter((m) => m.group.anchor).length, 1, "one stage of pod A is the anchor");
  const row = await db.pool.query<{ holder: string }>("SELECT holder FROM leadership_group");
  assert.equal(row.rows[0]?.holder, "pod-a");

  // Every session of pod A ends at once, as when its node or the pod itself goes.
  const t0 = Date.now();
  await crash(a);
  await withTimeout(
    Promise.all(leadsA.map((l) => l?.lost)),
    10_000,
    "pod A's leaderships to be lost",
  );
  const leadsB = await withTimeout(
    Promise.all(b.map((m) => m.leadership)),
    // Pod A did not release: pod B's stages wait out the takeover time (6 s) first.
    30_000,
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
});

test("when only the anchor's process ends, one pod leads all five stages again", async () => {
  const { a, b } = await podALeads();
  const anchor = a.find((m) => m.group.anchor);
  assert.ok(anchor);
  // The anchor's process crashes (its stage lock and the group lock go with its sessions);
  // pod A's other stages live on, and the crashed stage is restarted in pod A.
  await crash([anchor]);
  await (await anchor.leadership)?.release();
  const survivors = [...a, ...b].filter((m) => m !== anchor);
  survivors.push(member("pod-a", anchor.stage));
  // The stages that lost their leadership stand by again, as a restarted process would.
  const settle = Date.now() + 20_000;
  for (;;) {
    for (const [i, m] of survivors.entries()) {
      const lead = (await isSettled(m.leadership)) ? await m.leadership : undefined;
      if (lead && (await isSettled(lead.lost))) {
        // Another pod took the group: this stage stepped down, as its process would.
        assert.ok(isTradepipeError(await lead.lost, "TP_ERR_LEADERSHIP_MOVED"));
        await lead.release();
        await m.group.release();
        survivors[i] = member(m.pod, m.stage);
      }
    }
    const leaders = await leadingMembers(survivors);
    const pods = new Set(Object.values(await holders()));
    if (leaders.length === 5 && pods.size === 1) break;
    if (Date.now() > settle) {
      assert.fail(`no single pod leads: ${JSON.stringify(await holders())}`);
    }
    await sleep(100);
  }
  const pods = new Set((await leadingMembers(survivors)).map((m) => m.pod));
  assert.equal(pods.size, 1);
  assert.equal(await survivors[0]?.group.leader(), [...pods][0]);
});

test("a record whose anchor no longer holds the lock is not trusted", async () => {
  await resetTables();
  // A leftover row (its session long gone): the group it names does not lead.
  await db.pool.query(
    "INSERT INTO leadership_group (id, holder, anchor_pid, epoch) VALUES (1, 'pod-gone', 2147483000, 7)",
  );
  assert.equal(await joinLeadershipGroup(db.pool, "observer").leader(), null);
  const x = member("pod-x", "risk-manager");
  assert.ok(await withTimeout(x.leadership, 10_000, "pod X to lead"));
  assert.equal(await x.group.leader(), "pod-x");
  const r = await db.pool.query<{ epoch: string }>("SELECT epoch FROM leadership_group");
  assert.equal(r.rows[0]?.epoch, "8");
});

/** fiveLeaders waits (15 s at most) until one member leads each stage, and returns them. */
async function fiveLeaders(members: Member[]): Promise<Member[]> {
  const deadline = Date.now() + 15_000;
  while ((await leadingMembers(members)).length < 5 && Date.now() < deadline) await sleep(50);
  const winners = await leadingMembers(members);
  assert.equal(winners.length, 5, "one leader per stage");
  return winners;
}

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
