/**
 * Bare-metal Postgres HA as `tradepipe render systemd` lays it out: real Patroni members (the
 * pinned venv) with real Postgres, their configuration rendered by native-deploy/patroni-config.ts,
 * against a real etcd. Each member reaches etcd through a TCP proxy the test controls, so one
 * member can be cut off from the DCS while clients still reach its Postgres.
 *
 * Three members in synchronous mode (one synchronous standby), run in order on one cluster:
 * a host crash under writes (failover, zero acknowledged writes lost, checked row by row; the
 * failover time is printed), the former primary rejoining by pg_rewind, a switchover on request
 * (clean, consumed once), a leader cut off from the DCS demoting itself before a replica is
 * promoted, and an asynchronous replica never promoted in place of the synchronous one.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import {
  type HaHost,
  PATRONI_TIMINGS,
  type PatroniTopology,
  renderPatroniConfig,
} from "../../native-deploy/patroni-config.ts";
import { loadPipelineFile, type TradingPipeline } from "../../services/core/spec/index.ts";
import { ensureCertificateAuthority } from "../../services/core/tls/authority.ts";
import {
  clusterView,
  type Etcd,
  freePort,
  isWritable,
  type PatroniMember,
  patroniRuntime,
  pgUrl,
  prepareMemberTls,
  startEtcd,
  startPatroniMember,
  startTcpProxy,
  type TcpProxy,
  waitFor,
} from "../support/patroni.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "patroni-test-superuser";
const ENV = {
  PATRONI_SUPERUSER_PASSWORD: PASSWORD,
  PATRONI_REPLICATION_PASSWORD: "patroni-test-replication",
  PATRONI_REWIND_PASSWORD: "patroni-test-rewind",
};
/** Longest a failover may take here: the leader key's TTL plus loops, on a loaded machine. */
const FAILOVER_WAIT_MS = (PATRONI_TIMINGS.ttl + 6 * PATRONI_TIMINGS.loopWait) * 1000 + 60_000;

let dir: string;
let etcd: Etcd;
const proxies = new Map<string, TcpProxy>();
const members: PatroniMember[] = [];

const byName = (name: string) => {
  const m = members.find((x) => x.name === name);
  if (!m) throw new Error(`no member ${name}`);
  return m;
};

before(async () => {
  await patroniRuntime();
  dir = await mkdtemp(join(tmpdir(), "tp-patroni-"));
  await chmod(dir, 0o755); // the unprivileged user that runs Patroni enters it
  etcd = await startEtcd(dir, Number(process.env.TRADEPIPE_TEST_ETCD_MEMBERS ?? 1));
  const base = await loadPipelineFile(join(root, "config", "pipeline.yaml"));
  const pipeline: TradingPipeline = {
    ...base,
    spec: { ...base.spec, database: { ...base.spec.database, instances: 3, synchronous: true } },
  };
  const hosts: HaHost[] = ["pg-a", "pg-b", "pg-c"].map((name) => ({ name, address: "127.0.0.1" }));
  const topology: PatroniTopology = {
    dbHosts: hosts,
    etcdHosts: [{ name: "etcd0", address: "127.0.0.1" }],
    pgBinDir: (await patroniRuntime()).pgBinDir,
  };
  for (const host of hosts) {
    const proxy = await startTcpProxy(etcd.endpoints[0]!);
    proxies.set(host.name, proxy);
    const memberDir = join(dir, host.name);
    // Each member's own server certificate from one CA, as `tradepipe certs server` makes it.
    const tlsDir = await prepareMemberTls(join(dir, "ca"), join(memberDir, "tls"), [
      host.name,
      host.address,
      "localhost",
    ]);
    const config = renderPatroniConfig(pipeline, topology, host, {
      pgPort: await freePort(),
      restApiPort: await freePort(),
      etcdEndpoints: [`127.0.0.1:${proxy.port}`],
      etcdUseProxies: true,
      dataDir: join(memberDir, "data"),
      socketDir: join(memberDir, "run"),
      tlsDir,
    });
    members.push(await startPatroniMember({ dir: memberDir, config, env: ENV }));
    if (members.length === 1) {
      // Bootstrap from the first member, so the others clone it rather than race to initdb.
      await waitFor("a bootstrapped leader", 120_000, async () =>
        (await isWritable(members[0]!, PASSWORD)) ? true : undefined,
      );
    }
  }
  await waitFor("three running members with a synchronous standby", 180_000, async () => {
    const v = await clusterView(members);
    const streaming = v.members.filter((m) => m.state === "streaming" || m.state === "running");
    return v.leader && streaming.length === 3 && v.members.some((m) => m.role === "sync_standby")
      ? true
      : undefined;
  });
  const admin = new pg.Client({ connectionString: pgUrl(byName(await leaderName()), PASSWORD) });
  await admin.connect();
  await admin.query("CREATE TABLE acked (id bigint PRIMARY KEY, at timestamptz DEFAULT now())");
  await admin.end();
});

after(async () => {
  for (const m of members) await m.kill();
  for (const p of proxies.values()) await p.close();
  await etcd?.stop();
  if (process.env.TRADEPIPE_TEST_KEEP_PATRONI) {
    process.stdout.write(`# Patroni test directory kept: ${dir}\n`);
  } else if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

async function leaderName(): Promise<string> {
  return waitFor("a leader", FAILOVER_WAIT_MS, async () => (await clusterView(members)).leader);
}

async function roleOf(role: string): Promise<string> {
  const v = await clusterView(members);
  const m = v.members.find((x) => x.role === role);
  if (!m) throw new Error(`no ${role} in ${JSON.stringify(v.members)}`);
  return m.name;
}

/**
 * Writer inserts increasing ids into whichever member is writable, one at a time, and records
 * each acknowledged id with the member that acknowledged it and when (monotonic ms).
 */
class Writer {
  acked: Array<{ id: number; member: string; at: number }> = [];
  private next: number;
  private stopped = false;
  private done: Promise<void>;
  constructor(startId: number) {
    this.next = startId;
    this.done = this.loop();
  }
  private async loop(): Promise<void> {
    while (!this.stopped) {
      const target = await this.findWritable();
      if (!target) {
        await sleep(100);
        continue;
      }
      const client = new pg.Client({
        connectionString: pgUrl(target, PASSWORD),
        connectionTimeoutMillis: 1500,
        query_timeout: 3000,
        application_name: "writer",
      });
      client.on("error", () => {});
      try {
        await client.connect();
        while (!this.stopped) {
          const id = this.next++;
          await client.query("INSERT INTO acked (id) VALUES ($1)", [id]);
          this.acked.push({ id, member: target.name, at: performance.now() });
        }
      } catch {
        // the member went away, demoted or hung: find the writable one again
      } finally {
        await client.end().catch(() => {});
      }
    }
  }
  private async findWritable(): Promise<PatroniMember | undefined> {
    for (const m of members) {
      if (m.running() && (await isWritable(m, PASSWORD))) return m;
    }
    return undefined;
  }
  firstAckAfter(at: number, member?: string) {
    return this.acked.find((a) => a.at > at && (member === undefined || a.member === member));
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function waitForAcks(w: Writer, n: number, what: string): Promise<void> {
  const start = w.acked.length;
  await waitFor(what, FAILOVER_WAIT_MS, async () =>
    w.acked.length >= start + n ? true : undefined,
  );
}

/** assertNoAckedLost reads every acknowledged id back from the leader, row by row. */
async function assertNoAckedLost(w: Writer): Promise<void> {
  const leader = byName(await leaderName());
  const c = new pg.Client({ connectionString: pgUrl(leader, PASSWORD) });
  await c.connect();
  try {
    const r = await c.query<{ id: string }>("SELECT id FROM acked");
    const present = new Set(r.rows.map((row) => Number(row.id)));
    const lost = w.acked.filter((a) => !present.has(a.id));
    assert.deepEqual(lost, [], `acknowledged writes missing on the new leader ${leader.name}`);
  } finally {
    await c.end();
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

let nextId = 1;

test("every member speaks TLS only: replication verified, plaintext and foreign CAs refused", async () => {
  for (const m of members) {
    const url = new URL(pgUrl(m, PASSWORD));
    url.searchParams.set("sslmode", "disable");
    url.searchParams.delete("sslrootcert");
    const plain = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: 5000,
    });
    plain.on("error", () => {});
    await assert.rejects(plain.connect(), /no encryption/, `${m.name}: plaintext refused`);
    await plain.end().catch(() => {});
    const otherCa = join(dir, "other-ca");
    await ensureCertificateAuthority(otherCa, { now: new Date() });
    url.searchParams.set("sslmode", "verify-full");
    url.searchParams.set("sslrootcert", join(otherCa, "ca.crt"));
    const foreign = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: 5000,
    });
    foreign.on("error", () => {});
    await assert.rejects(
      foreign.connect(),
      (e: Error & { code?: string }) => /UNABLE_TO_(VERIFY|GET_ISSUER)/.test(e.code ?? ""),
      `${m.name}: a client trusting another CA refuses the member`,
    );
    await foreign.end().catch(() => {});
  }
  // The standbys stream over TLS, having verified the primary (Patroni's sslmode=verify-full).
  const leader = new pg.Client({ connectionString: pgUrl(byName(await leaderName()), PASSWORD) });
  await leader.connect();
  const streams = await leader.query<{ ssl: boolean }>(
    "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s ON s.pid = r.pid",
  );
  const conninfo = await leader.query<{ ssl: boolean }>(
    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
  );
  await leader.end();
  assert.equal(streams.rows.length, 2, "two standbys stream");
  assert.ok(
    streams.rows.every((r) => r.ssl),
    "every replication connection is encrypted",
  );
  assert.equal(conninfo.rows[0]?.ssl, true);
});

test("a leader host crash under writes: the synchronous standby is promoted, no acknowledged write lost", async () => {
  const oldLeader = await leaderName();
  const standby = await roleOf("sync_standby");
  const writer = new Writer(nextId);
  await waitForAcks(writer, 50, "writes on the first leader");
  const killedAt = performance.now();
  await byName(oldLeader).kill();
  await waitFor("a write accepted by a new leader", FAILOVER_WAIT_MS, async () =>
    writer.firstAckAfter(killedAt, standby),
  );
  const first = writer.firstAckAfter(killedAt, standby)!;
  const failoverMs = first.at - killedAt;
  await waitForAcks(writer, 20, "writes on the new leader");
  await writer.stop();
  nextId = writer.acked.at(-1)!.id + 1;
  process.stdout.write(
    `# failover (host crash: SIGKILL of Patroni and Postgres → first commit on the new leader): ${(failoverMs / 1000).toFixed(1)} s (ttl ${PATRONI_TIMINGS.ttl} s, loop_wait ${PATRONI_TIMINGS.loopWait} s, retry_timeout ${PATRONI_TIMINGS.retryTimeout} s)\n`,
  );
  assert.equal(await leaderName(), standby, "the synchronous standby is the new leader");
  assert.ok(
    writer.acked.every((a) => a.member === oldLeader || a.member === standby),
    "only the old leader and the synchronous standby ever acknowledged writes",
  );
  await assertNoAckedLost(writer);
});

test("the former primary rejoins as a replica by pg_rewind", async () => {
  const leader = await leaderName();
  const former = members.find((m) => !m.running());
  assert.ok(former, "the crashed member from the previous test");
  await former.start();
  const view = await waitFor(
    "the former primary streaming on the new timeline",
    180_000,
    async () => {
      const v = await clusterView(members);
      const me = v.members.find((m) => m.name === former.name);
      const lead = v.members.find((m) => m.name === leader);
      return me && lead && me.state === "streaming" && me.timeline === lead.timeline
        ? v
        : undefined;
    },
  );
  assert.notEqual(view.leader, former.name);
  assert.match(await former.log(), /pg_rewind exit code=0/, "Patroni rewound the former primary");
  assert.doesNotMatch(await former.log(), /removing data directory/i);
});

test("a switchover on request moves the leader cleanly and is consumed once", async () => {
  const leader = await leaderName();
  const candidate = await waitFor("a synchronous standby", 60_000, () => roleOf("sync_standby"));
  const writer = new Writer(nextId);
  await waitForAcks(writer, 20, "writes before the switchover");
  const r = await fetch(`${byName(leader).restUrl}/switchover`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ leader, candidate }),
  });
  assert.equal(r.status, 200, await r.text());
  const at = performance.now();
  await waitFor("writes on the candidate", FAILOVER_WAIT_MS, async () =>
    writer.firstAckAfter(at, candidate),
  );
  await writer.stop();
  nextId = writer.acked.at(-1)!.id + 1;
  assert.equal(await leaderName(), candidate);
  // Consumed: nothing scheduled remains, and the same request again is refused (its leader is
  // no longer the leader) rather than moving the leader back.
  const v = await clusterView(members);
  assert.equal(v.scheduledSwitchover, undefined);
  const again = await fetch(`${byName(candidate).restUrl}/switchover`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ leader, candidate }),
  });
  assert.notEqual(again.status, 200, "a replayed switchover request is refused");
  await sleep(3 * PATRONI_TIMINGS.loopWait * 1000);
  assert.equal(await leaderName(), candidate, "the leader stays where the switchover put it");
  await assertNoAckedLost(writer);
});

test("a clean stop of the leader hands over to the synchronous standby within seconds", async () => {
  const leader = await leaderName();
  const standby = await waitFor("a synchronous standby", 60_000, () => roleOf("sync_standby"));
  const writer = new Writer(nextId);
  await waitForAcks(writer, 20, "writes before the stop");
  const stoppedAt = performance.now();
  await byName(leader).terminate();
  await waitFor("writes on the standby", FAILOVER_WAIT_MS, async () =>
    writer.firstAckAfter(stoppedAt, standby),
  );
  const handoverMs = writer.firstAckAfter(stoppedAt, standby)!.at - stoppedAt;
  await writer.stop();
  nextId = writer.acked.at(-1)!.id + 1;
  process.stdout.write(
    `# failover (clean stop: SIGTERM to the leader's Patroni → first commit on the new leader): ${(handoverMs / 1000).toFixed(1)} s\n`,
  );
  await assertNoAckedLost(writer);
  await byName(leader).start();
  await waitFor("the stopped member streaming again", 180_000, async () => {
    const v = await clusterView(members);
    return v.members.find((m) => m.name === leader)?.state === "streaming" ? true : undefined;
  });
});

test("a leader cut off from etcd demotes itself before a replica is promoted", async () => {
  const leader = await leaderName();
  await waitFor("every member streaming", 120_000, async () => {
    const v = await clusterView(members);
    return v.members.filter((m) => m.state === "streaming").length === 2 ? true : undefined;
  });
  // Only a synchronous standby may be promoted: right after the previous scenario's member came
  // back, streaming comes before Patroni names the standby again, and a cut made in between
  // leaves nobody to promote.
  await waitFor("a synchronous standby", 60_000, () => roleOf("sync_standby"));
  const writer = new Writer(nextId);
  await waitForAcks(writer, 20, "writes before the partition");
  const cutAt = performance.now();
  proxies.get(leader)!.block();
  const successor = await waitFor("writes on another member", FAILOVER_WAIT_MS, async () =>
    writer.acked.find((a) => a.at > cutAt && a.member !== leader),
  );
  await waitForAcks(writer, 10, "writes on the successor");
  await writer.stop();
  nextId = writer.acked.at(-1)!.id + 1;
  const lastOnOld = writer.acked.filter((a) => a.member === leader).at(-1)!;
  const firstOnNew = writer.acked.find((a) => a.member === successor.member)!;
  process.stdout.write(
    `# partition: last commit on the cut-off leader ${((lastOnOld.at - cutAt) / 1000).toFixed(1)} s after the cut, first on ${successor.member} ${((firstOnNew.at - cutAt) / 1000).toFixed(1)} s after it\n`,
  );
  assert.ok(lastOnOld.at < firstOnNew.at, "no two writers: the old leader stopped first");
  // Demoted, not just unreachable: its Postgres is up and read-only while clients still reach it.
  assert.equal(await isWritable(byName(leader), PASSWORD), false);
  await assertNoAckedLost(writer);
  proxies.get(leader)!.unblock();
  await waitFor("the cut-off member streaming again", 180_000, async () => {
    const v = await clusterView(members);
    return v.members.find((m) => m.name === leader)?.state === "streaming" ? true : undefined;
  });
});

test("an asynchronous replica is never promoted in place of the synchronous standby", async () => {
  const leader = await leaderName();
  const standby = await waitFor("a synchronous standby", 60_000, () => roleOf("sync_standby"));
  const asyncReplica = members.find((m) => m.name !== leader && m.name !== standby)!;
  const writer = new Writer(nextId);
  await waitForAcks(writer, 30, "writes before the crash");
  await writer.stop();
  nextId = writer.acked.at(-1)!.id + 1;
  // Leader and synchronous standby crash together: the asynchronous replica is healthy and
  // reachable, but it may lack acknowledged writes, so Patroni must leave the cluster leaderless.
  await Promise.all([byName(leader).kill(), byName(standby).kill()]);
  const crashedAt = performance.now();
  while (
    performance.now() - crashedAt <
    (PATRONI_TIMINGS.ttl + 4 * PATRONI_TIMINGS.loopWait) * 1000
  ) {
    assert.equal(await isWritable(asyncReplica, PASSWORD), false, "the async replica was promoted");
    await sleep(1000);
  }
  assert.equal((await clusterView([asyncReplica])).leader, undefined);
  // The synchronous standby returns and takes over with every acknowledged write.
  await byName(standby).start();
  await waitFor("the synchronous standby leading", FAILOVER_WAIT_MS, async () =>
    (await isWritable(byName(standby), PASSWORD)) ? true : undefined,
  );
  await assertNoAckedLost(writer);
  await byName(leader).start();
});
