/**
 * Postgres under Patroni with Kubernetes as the DCS, on the test control plane. kwok runs no
 * container, so the test runs what the database pods would: one real Patroni process (the pinned
 * venv, Debian's Postgres) per pod the operator's StatefulSet made, named after the pod, with
 * the patroni.yml the operator rendered into its ConfigMap, the passwords from its Secret and
 * Patroni's own ServiceAccount token (so the Role the operator grants is what Patroni runs
 * with). Only what a pod's environment and volumes would set differs: addresses on loopback,
 * local directories, the Postgres binaries.
 *
 * test/operator/patroni-pods.ts starts them.
 *
 * The operator renders, asks and reports: the rw Service follows the role label Patroni writes,
 * status shows Patroni's view, a spec change to synchronous reaches Postgres through PATCH
 * /config, a switchover annotation is consumed once, and a leader crash is Patroni's failover.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { PATRONI_TIMINGS } from "../../operator/postgres/patroni-settings.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import type { PatroniMember } from "../support/patroni.ts";
import { type PatroniPipeline, type PatroniPods, startPatroniPipeline } from "./patroni-pods.ts";
import {
  getJson,
  type Json,
  type OperatorProcess,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "pg";
const P = "pgha";
const FAILOVER_WAIT_MS = (PATRONI_TIMINGS.ttl + 10 * PATRONI_TIMINGS.loopWait) * 1000 + 60_000;
let cluster: ControlPlane;
let operator: OperatorProcess;
let operatorKubeconfig: string;
let env: PatroniPipeline;
let patroni: PatroniPods;
let appPassword: string;
const members: PatroniMember[] = [];

const member = (name: string) => {
  const m = members.find((x) => x.name === name);
  if (!m) throw new Error(`no member ${name}`);
  return m;
};

async function tp(): Promise<Json> {
  return getJson(cluster, ["tp", P, "-n", NS]);
}

async function labelledPrimary(): Promise<string | undefined> {
  const pods = await getJson(cluster, ["pods", "-n", NS, "-l", "tradepipe.io/db-role=primary"]);
  return pods.items.length === 1 ? pods.items[0].metadata.name : undefined;
}

/** rwTargets: the pods the rw Service routes to (its EndpointSlices). */
async function rwTargets(): Promise<string[]> {
  const slices = await getJson(cluster, [
    "endpointslices",
    "-n",
    NS,
    "-l",
    `kubernetes.io/service-name=${P}-db-rw`,
  ]);
  return slices.items
    .flatMap((s: Json) => s.endpoints ?? [])
    .map((e: Json) => e.targetRef?.name)
    .sort();
}

async function waitRwOn(pod: string): Promise<void> {
  await waitFor(`rw routes to ${pod} alone`, async () => {
    const t = await rwTargets();
    return t.length === 1 && t[0] === pod;
  });
}

async function waitLeader(what: string, pred: (leader: string) => boolean): Promise<string> {
  return waitFor(
    what,
    async () => {
      const leader = await labelledPrimary();
      return leader && pred(leader) ? leader : undefined;
    },
    FAILOVER_WAIT_MS,
    250,
  );
}

function query<T extends pg.QueryResultRow>(m: PatroniMember, sql: string): Promise<T[]> {
  return patroni.query<T>(m, sql);
}

/** commitsOn: a row is committed on this member now (it leads and accepts writes). */
async function commitsOn(m: PatroniMember): Promise<boolean> {
  try {
    await query(
      m,
      "CREATE TABLE IF NOT EXISTS failover_probe (n int); INSERT INTO failover_probe VALUES (1)",
    );
    return true;
  } catch {
    return false;
  }
}

/** managers: the field managers of an object's own fields (not its status). */
function managers(obj: Json): string[] {
  return [
    ...new Set(
      ((obj.metadata.managedFields ?? []) as Json[])
        .filter((f) => !f.subresource)
        .map((f) => f.manager as string),
    ),
  ].sort();
}

/** patroniWrites: what Patroni wrote on its pods (role label, status role) and its leader key. */
async function patroniWrites(): Promise<Json> {
  const pods = await getJson(cluster, ["pods", "-n", NS, "-l", "tradepipe.io/component=database"]);
  const leaderKey = await getJson(cluster, ["configmap", `${P}-db-leader`, "-n", NS]);
  return {
    pods: Object.fromEntries(
      (pods.items as Json[]).map((pod) => [
        pod.metadata.name,
        {
          label: pod.metadata.labels?.["tradepipe.io/db-role"],
          role: JSON.parse(pod.metadata.annotations?.status ?? "{}").role,
        },
      ]),
    ),
    leader: leaderKey.metadata.annotations?.leader,
  };
}
const verified = () => patroni.verified();

describe("Postgres under Patroni, Kubernetes DCS", { timeout: 900_000 }, () => {
  before(async () => {
    env = await startPatroniPipeline(NS, P, { instances: 2, synchronous: false });
    ({ cluster, operator, operatorKubeconfig, patroni } = env);
    members.push(...patroni.members);
    appPassword = patroni.appPassword;
  });

  after(async () => {
    await env?.stop();
  });

  test("Patroni elects a leader; rw follows its role label; status shows Patroni's view", async () => {
    const leader = await waitLeader("a leader labelled by Patroni", () => true);
    await waitRwOn(leader);
    const status = await waitFor(
      "status with Patroni's leader and two members",
      async () => {
        const s = (await tp()).status;
        return s?.database?.leader === leader &&
          s.database.members.length === 2 &&
          s.database.members.every((m: Json) => m.state === "running" || m.state === "streaming")
          ? s
          : undefined;
      },
      180_000,
      500,
    );
    assert.equal(status.primary, leader);
    assert.ok(status.database.timeline >= 1);
    const db = status.conditions.find((c: Json) => c.type === "DatabaseReady");
    assert.equal(db.status, "True");
    assert.equal(db.reason, "LeaderRunning");
    // Bootstrap ran once, with the operator's post-bootstrap script: the stages' role works.
    const app = new pg.Client({
      host: "127.0.0.1",
      port: member(leader).pgPort,
      user: "tradepipe",
      password: appPassword,
      database: "tradepipe",
      ...verified(),
    });
    await app.connect();
    await app.query("CREATE TABLE t (id int)");
    await app.end();
    // TLS only: a client without it is refused; the standby streams encrypted, having verified
    // the leader's certificate (Patroni's sslmode=verify-full against the operator's CA).
    const plain = new pg.Client({
      host: "127.0.0.1",
      port: member(leader).pgPort,
      user: "tradepipe",
      password: appPassword,
      database: "tradepipe",
      ssl: false,
    });
    plain.on("error", () => {});
    await assert.rejects(plain.connect(), /no encryption/);
    await plain.end().catch(() => {});
    const streams = await waitFor("the standby streaming", async () => {
      const rows = await query<{ ssl: boolean }>(
        member(leader),
        "SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s ON s.pid = r.pid",
      );
      return rows.length === 1 ? rows : undefined;
    });
    assert.equal(streams[0]?.ssl, true, "replication is encrypted");
  });

  // The operator and Patroni never write each other's objects: the operator's drift repair
  // (also after its restart) leaves Patroni's labels, status and keys alone.
  test("the operator's drift repair leaves alone what Patroni writes, and Patroni the operator's objects", async () => {
    const leader = (await labelledPrimary()) as string;
    const before = await patroniWrites();
    assert.equal(before.leader, leader);
    // A new operator process has recorded no write of its own, so it applies every object once
    // more; and a tampered rw Service makes it repair drift.
    assert.equal(await operator.stop(), 0);
    operator = startOperatorProcess(operatorKubeconfig, "operator-1");
    env.operator = operator;
    await cluster.kubectl([
      "patch",
      "service",
      `${P}-db-rw`,
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"selector":{"tradepipe.io/db-role":"replica"}}}',
    ]);
    await waitFor("the operator repairs the rw Service", async () => {
      const svc = await getJson(cluster, ["service", `${P}-db-rw`, "-n", NS]);
      return svc.spec.selector["tradepipe.io/db-role"] === "primary";
    });
    await waitRwOn(leader);
    assert.deepEqual(await patroniWrites(), before, "Patroni's labels, status and leader key");
    // Nothing either one writes is written by the other: the database pods and Patroni's own
    // ConfigMaps carry no field of the operator's, the operator's objects none of Patroni's.
    const show = ["-n", NS, "--show-managed-fields"];
    const pods = await getJson(cluster, ["pods", "-l", "tradepipe.io/component=database", ...show]);
    const patroniMaps = await getJson(cluster, [
      "configmaps",
      "-l",
      `tradepipe.io/db-cluster=${P}-db`,
      ...show,
    ]);
    assert.ok(patroniMaps.items.length >= 2, "Patroni's leader and config keys");
    for (const obj of [...pods.items, ...patroniMaps.items] as Json[]) {
      assert.ok(
        !managers(obj).includes("tradepipe-operator"),
        `${obj.kind} ${obj.metadata.name} is written by ${managers(obj).join(", ")}`,
      );
    }
    const patroni = managers(pods.items.find((p: Json) => p.metadata.name === leader)).filter(
      (m) => m !== "kube-controller-manager",
    );
    assert.ok(patroni.length > 0, "Patroni's manager on its pod");
    const owned = await getJson(cluster, [
      "services,configmaps,statefulsets,poddisruptionbudgets",
      "-l",
      "app.kubernetes.io/managed-by=tradepipe-operator",
      ...show,
    ]);
    for (const obj of owned.items as Json[]) {
      const foreign = managers(obj).filter((m) => patroni.includes(m));
      assert.deepEqual(foreign, [], `${obj.kind} ${obj.metadata.name} written by Patroni`);
    }
  });

  test("a spec change to synchronous reaches Postgres through Patroni's dynamic configuration", async () => {
    const leader = (await labelledPrimary()) as string;
    await cluster.kubectl([
      "patch",
      "tp",
      P,
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"database":{"synchronous":true}}}',
    ]);
    const names = await waitFor(
      "synchronous_standby_names set on the leader",
      async () => {
        const [row] = await query<{ s: string }>(
          member(leader),
          "SELECT current_setting('synchronous_standby_names') AS s",
        );
        return row?.s ? row.s : undefined;
      },
      120_000,
      500,
    );
    const replica = members.find((m) => m.name !== leader)?.name as string;
    assert.match(names, new RegExp(replica));
    const config = (await (await fetch(`${member(leader).restUrl}/config`)).json()) as Json;
    assert.equal(config.synchronous_mode, true);
  });

  test("a switchover annotation moves the leader once and is consumed", async () => {
    const leader = (await labelledPrimary()) as string;
    const replica = members.find((m) => m.name !== leader)?.name as string;
    await waitFor("the replica is the synchronous standby", async () => {
      const r = await fetch(`${member(leader).restUrl}/cluster`);
      const body = (await r.json()) as Json;
      return body.members.some((m: Json) => m.name === replica && m.role === "sync_standby");
    });
    await cluster.kubectl(["annotate", "tp", P, "-n", NS, `tradepipe.io/switchover-to=${replica}`]);
    await waitLeader("the replica leads", (l) => l === replica);
    await waitFor("the request consumed", async () => {
      const t = await tp();
      return t.metadata.annotations?.["tradepipe.io/switchover-to"] === undefined;
    });
    const recorded = await waitFor("the switchover recorded", async () => {
      const f = (await tp()).status?.lastFailover;
      return f?.to === replica && f.reason === "Switchover" ? f : undefined;
    });
    assert.equal(recorded.from, leader);
    await waitRwOn(replica);
    // Consumed: the leader stays where the switchover put it.
    await new Promise((r) => setTimeout(r, 4 * PATRONI_TIMINGS.loopWait * 1000));
    assert.equal(await labelledPrimary(), replica);
  });

  test("a leader crash: Patroni promotes the standby, the operator reports the failover", async () => {
    const leader = (await labelledPrimary()) as string;
    const standby = members.find((m) => m.name !== leader)?.name as string;
    // In synchronous mode only the standby Patroni has named synchronous (its sync key) may be
    // promoted: a crash just after the switchover, before the new leader named it, would leave
    // no one promotable, by design.
    await waitFor("the standby named synchronous", async () => {
      const r = await fetch(`${member(leader).restUrl}/cluster`);
      const body = (await r.json()) as Json;
      return body.members.some((m: Json) => m.name === standby && m.role === "sync_standby");
    });
    const killedAt = performance.now();
    await member(leader).kill();
    // Failover time as a client sees it: kill → a commit acknowledged by the new leader.
    const written = waitFor(
      "a write accepted on the standby",
      async () => ((await commitsOn(member(standby))) ? performance.now() : undefined),
      FAILOVER_WAIT_MS,
      100,
    );
    // Play the node: kwok would keep the dead pod Ready with the labels its Patroni last wrote,
    // where a kubelet would fail its readiness probe and restart it. Replace the pod instead.
    await cluster.kubectl(["delete", "pod", leader, "-n", NS, "--wait=false"]);
    await waitLeader("the standby promoted by Patroni", (l) => l === standby);
    const labelledAt = performance.now();
    const writtenAt = await written;
    const secs = (t: number) => ((t - killedAt) / 1000).toFixed(1);
    process.stdout.write(
      `# Kubernetes DCS: host crash → a write accepted on the standby after ${secs(writtenAt)} s, standby labelled primary after ${secs(labelledAt)} s\n`,
    );
    const recorded = await waitFor("the failover recorded", async () => {
      const f = (await tp()).status?.lastFailover;
      return f?.to === standby && f.reason === "Failover" ? f : undefined;
    });
    assert.equal(recorded.from, leader);
    await waitRwOn(standby);
  });
});
