/**
 * A database template change reaches running Postgres pods, in Patroni's order, on the test
 * control plane with real Patroni processes (test/operator/patroni-pods.ts; the test plays the
 * kubelet: a deleted pod's Patroni is stopped and started again under the new pod, on the same
 * data directory). Three members in synchronous mode, rows written to the leader throughout:
 *
 * - replicas are replaced first, one at a time: a pod goes only once the one replaced before it
 *   streams again, caught up;
 * - then the operator asks Patroni for a switchover to an updated synchronous standby, and
 *   deletes the old leader's pod only after the leader moved;
 * - at no moment are two pods labelled primary; every write a leader acknowledged is on the
 *   final leader; DatabaseReady said what the rollout did and waited for.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { LABEL_DB_ROLE } from "../../operator/api/names.ts";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { RESOURCES, resourcePath } from "../../operator/kube/resources.ts";
import {
  createKubeClient,
  type KubeClient,
  loadKubeConfig,
} from "../../services/core/kube/client.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  type Kubelet,
  type PatroniPipeline,
  type PatroniPods,
  playKubelet,
  startPatroniPipeline,
} from "./patroni-pods.ts";
import { getJson, type Json, waitFor } from "./support.ts";

const NS = "pgroll";
const P = "roll";
const INSTANCES = 3;
const ROLL_WAIT_MS = 600_000;

let env: PatroniPipeline;
let cluster: ControlPlane;
let patroni: PatroniPods;
let kubelet: Kubelet;
let admin: KubeClient;

/** What the pod watch saw: primaries at once, leader changes, members streaming again. */
const seen = {
  maxPrimaries: 0,
  twoPrimaries: [] as string[][],
  leaders: [] as { leader: string; at: number }[],
  rejoins: [] as { pod: string; uid: string; at: number }[],
};

function patroniStatus(pod: KubeObject): Json {
  try {
    return JSON.parse(pod.metadata.annotations?.status ?? "{}") as Json;
  } catch {
    return {};
  }
}

function primaries(pods: ReadonlyMap<string, KubeObject>): string[] {
  return [...pods.values()]
    .filter(
      (p) => !p.metadata.deletionTimestamp && p.metadata.labels?.[LABEL_DB_ROLE] === "primary",
    )
    .map((p) => p.metadata.name)
    .sort();
}

function observe(pods: ReadonlyMap<string, KubeObject>): void {
  const now = performance.now();
  const labelled = primaries(pods);
  seen.maxPrimaries = Math.max(seen.maxPrimaries, labelled.length);
  if (labelled.length > 1) seen.twoPrimaries.push(labelled);
  const leader = labelled.length === 1 ? labelled[0] : undefined;
  if (leader && seen.leaders.at(-1)?.leader !== leader) seen.leaders.push({ leader, at: now });
  for (const pod of pods.values()) {
    const s = patroniStatus(pod);
    const uid = pod.metadata.uid ?? "";
    if (s.state !== "running" || s.replication_state !== "streaming") continue;
    if (seen.rejoins.some((r) => r.uid === uid)) continue;
    seen.rejoins.push({ pod: pod.metadata.name, uid, at: now });
  }
}

async function pipeline(): Promise<Json> {
  return admin.request<Json>("GET", resourcePath(RESOURCES.TradingPipeline, NS, P));
}

function databaseReady(tp: Json): Json | undefined {
  return (tp.status?.conditions as Json[] | undefined)?.find((c) => c.type === "DatabaseReady");
}

function currentLeader(): string | undefined {
  const labelled = primaries(kubelet.pods);
  return labelled.length === 1 ? labelled[0] : undefined;
}

/** appClient connects as the stages' role to one member, verifying the operator's CA. */
function appClient(pod: string): pg.Client {
  const c = new pg.Client({
    host: "127.0.0.1",
    port: patroni.member(pod).pgPort,
    user: "tradepipe",
    password: patroni.appPassword,
    database: "tradepipe",
    connectionTimeoutMillis: 3000,
    query_timeout: 15_000,
    ...patroni.verified(),
  });
  c.on("error", () => {});
  return c;
}

/**
 * startWriter inserts numbered rows into whichever pod is labelled primary (what the rw Service
 * routes to), reconnecting after any error; `acked` holds every number a leader committed.
 */
function startWriter() {
  const acked: number[] = [];
  const ackTimes: number[] = [];
  let failures = 0;
  let stopped = false;
  const done = (async () => {
    let client: pg.Client | undefined;
    let on: string | undefined;
    let n = 0;
    while (!stopped) {
      const leader = currentLeader();
      if (!leader) {
        await sleep(100);
        continue;
      }
      try {
        if (!client || on !== leader) {
          await client?.end().catch(() => {});
          client = appClient(leader);
          on = leader;
          await client.connect();
        }
        n++;
        await client.query("INSERT INTO rollout_probe (id) VALUES ($1)", [n]);
        acked.push(n);
        ackTimes.push(performance.now());
      } catch {
        failures++;
        await client?.end().catch(() => {});
        client = undefined;
        await sleep(200);
      }
      await sleep(25);
    }
    await client?.end().catch(() => {});
  })();
  return {
    acked,
    ackTimes,
    failures: () => failures,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe("database rollout under Patroni, Kubernetes DCS", { timeout: 900_000 }, () => {
  before(async () => {
    env = await startPatroniPipeline(NS, P, { instances: INSTANCES, synchronous: true });
    ({ cluster, patroni } = env);
    admin = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
    kubelet = await playKubelet(cluster, NS, patroni, observe);
  });

  after(async () => {
    await kubelet?.stop();
    await admin?.close();
    await env?.stop();
  });

  test("a template change: replicas one at a time, a switchover, the old leader last; no two leaders, no acknowledged write lost", async () => {
    const leader = await waitFor(
      "a leader with two streaming replicas",
      async () => {
        const l = currentLeader();
        const streaming = [...kubelet.pods.values()].filter(
          (p) => patroniStatus(p).replication_state === "streaming",
        );
        return l && streaming.length === INSTANCES - 1 ? l : undefined;
      },
      300_000,
      500,
    );
    await waitFor(
      "DatabaseReady: the leader running",
      async () => {
        const c = databaseReady(await pipeline());
        return c?.status === "True" && c.reason === "LeaderRunning";
      },
      120_000,
      500,
    );
    const setup = appClient(leader);
    await setup.connect();
    await setup.query("CREATE TABLE rollout_probe (id bigint PRIMARY KEY)");
    await setup.end();
    const before = new Map(
      [...kubelet.pods.values()].map((p) => [
        p.metadata.name,
        p.metadata.labels?.["controller-revision-hash"],
      ]),
    );

    const writer = startWriter();
    await waitFor("rows written before the change", async () => writer.acked.length >= 20);
    // What an SRE reads while it rolls: DatabaseReady's reasons and messages.
    const messages = new Set<string>();
    let watching = true;
    const statusWatch = (async () => {
      while (watching) {
        const c = databaseReady(await pipeline().catch(() => ({})));
        if (c?.reason === "RollingOut") messages.add(c.message);
        await sleep(500);
      }
    })();

    const changedAt = performance.now();
    await cluster.kubectl([
      "patch",
      "tp",
      P,
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"database":{"image":"ghcr.io/tradepipe/postgres-patroni:17-4.1.5-patched"}}}',
    ]);
    await waitFor(
      "every database pod replaced and streaming again, DatabaseReady back to LeaderRunning",
      async () => {
        const pods = [...kubelet.pods.values()];
        const allNew = pods.every(
          (p) =>
            !p.metadata.deletionTimestamp &&
            p.metadata.labels?.["controller-revision-hash"] !== before.get(p.metadata.name),
        );
        const streaming = pods.filter((p) => patroniStatus(p).replication_state === "streaming");
        if (pods.length !== INSTANCES || !allNew || streaming.length !== INSTANCES - 1)
          return false;
        const c = databaseReady(await pipeline());
        return c?.status === "True" && c.reason === "LeaderRunning";
      },
      ROLL_WAIT_MS,
      500,
    );
    const rolledAt = performance.now();
    await waitFor("rows written after the roll", async () => {
      const n = writer.acked.length;
      await sleep(1000);
      return writer.acked.length > n;
    });
    await writer.stop();
    watching = false;
    await statusWatch;

    const rel = (t: number | undefined) =>
      t === undefined ? "-" : ((t - changedAt) / 1000).toFixed(1);
    process.stdout.write(
      `# deletions ${kubelet.replacements.map((r) => `${r.pod} at ${rel(r.deletedAt)} s, Patroni restarted at ${rel(r.restartedAt)} s`).join("; ")}; streaming again: ${seen.rejoins.map((r) => `${r.pod} at ${rel(r.at)} s`).join(", ")}; leaders: ${seen.leaders.map((l) => `${l.leader} at ${rel(l.at)} s`).join(", ")}\n`,
    );
    // The order: both replicas (highest ordinal first), each after the one before streamed
    // again; the old leader last, after the leader moved to a replaced replica.
    const order = kubelet.replacements.map((r) => r.pod);
    const replicas = [...before.keys()]
      .filter((n) => n !== leader)
      .sort()
      .reverse();
    assert.deepEqual(order, [...replicas, leader], "replicas first, then the old leader");
    for (let i = 1; i < kubelet.replacements.length; i++) {
      const previous = kubelet.replacements[i - 1] as { pod: string; deletedAt: number };
      const back = seen.rejoins.find((r) => r.pod === previous.pod && r.at > previous.deletedAt);
      assert.ok(back, `${previous.pod} streamed again after its replacement`);
      assert.ok(
        (kubelet.replacements[i]?.deletedAt ?? 0) > back.at,
        `${order[i]} was deleted only after ${previous.pod} streamed again`,
      );
    }
    const moved = seen.leaders.find((l) => l.at > changedAt && l.leader !== leader);
    assert.ok(moved, "the leader moved during the roll");
    assert.ok(replicas.includes(moved.leader), "to a replaced replica");
    const leaderDeleted = kubelet.replacements.at(-1)?.deletedAt ?? 0;
    assert.ok(moved.at < leaderDeleted, "the old leader's pod went only after the leader moved");
    assert.equal(
      seen.maxPrimaries,
      1,
      `two pods labelled primary: ${JSON.stringify(seen.twoPrimaries)}`,
    );

    // Patroni's switchover, as the operator recorded it.
    const tp = await pipeline();
    assert.equal(tp.status.lastFailover?.reason, "Switchover");
    assert.equal(tp.status.lastFailover?.from, leader);
    assert.equal(tp.status.lastFailover?.to, moved.leader);
    const said = [...messages].join("\n");
    assert.match(said, /to rejoin as a streaming, caught-up replica/);
    // Each deletion is an Event naming the pod, in the order they were made.
    const events = await getJson(cluster, [
      "events",
      "-n",
      NS,
      "--field-selector",
      "reason=RollingDatabase",
    ]);
    const deleted = (events.items as Json[])
      .sort((a, b) =>
        String(a.metadata.creationTimestamp).localeCompare(b.metadata.creationTimestamp),
      )
      .map((e) => /replacing replica (\S+)/.exec(e.message)?.[1]);
    assert.deepEqual(deleted, [...replicas, leader]);
    const asked = await getJson(cluster, [
      "events",
      "-n",
      NS,
      "--field-selector",
      "reason=SwitchoverRequested",
    ]);
    assert.deepEqual(
      (asked.items as Json[]).map((e) =>
        /^database rollout: .* from (\S+) to (\S+):/.exec(e.message)?.slice(1),
      ),
      [[leader, moved.leader]],
      "one switchover asked by the rollout",
    );

    // No acknowledged write lost: every number a leader committed is on the final leader.
    const finalLeader = currentLeader() as string;
    const reader = appClient(finalLeader);
    await reader.connect();
    const rows = await reader.query<{ id: string }>("SELECT id FROM rollout_probe");
    await reader.end();
    const stored = new Set(rows.rows.map((r) => Number(r.id)));
    const lost = writer.acked.filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], "acknowledged writes missing on the final leader");
    let longestGap = 0;
    for (let i = 1; i < writer.ackTimes.length; i++) {
      longestGap = Math.max(longestGap, (writer.ackTimes[i] ?? 0) - (writer.ackTimes[i - 1] ?? 0));
    }
    process.stdout.write(
      `# database rollout (${INSTANCES} members, synchronous): ${((rolledAt - changedAt) / 1000).toFixed(1)} s from the template change to every pod replaced and streaming; ${writer.acked.length} writes acknowledged, all on the final leader, ${writer.failures()} refused or failed; longest pause between acknowledged writes ${(longestGap / 1000).toFixed(1)} s\n`,
    );
  });
});
