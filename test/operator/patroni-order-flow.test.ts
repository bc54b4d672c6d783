/**
 * The Patroni leader killed under order flow, on the Kubernetes DCS. The database is what the
 * operator renders (two members, synchronous mode; test/operator/patroni-pods.ts runs their
 * Patroni processes on the test control plane), and the five stages run as `tradepipe run`'s
 * processes against the simulator, connected through the rw Service (played by a loopback
 * proxy that routes each new connection to the pod Patroni labels primary, as kube-proxy
 * would), with the operator's CA verifying the server.
 *
 * Why processes and not pods: kwok runs no container, so stage pods on the control plane would
 * not run either; the processes are the same stage code with the same database URL, TLS and
 * Service routing a pod gets.
 *
 * The leader's Patroni and Postgres are killed and its node stays down (a host crash; a pod
 * restarted at once would find its leader key unexpired and lead again, no failover): the
 * stages ride it out (no stage process exits), stop acting while there is no
 * leader, and trade again on the promoted standby; no committed row is lost (row by row), no
 * client_order_id reaches the broker twice, every broker fill is in the database and positions
 * match the broker's (quiesceAndCheck). Then the pod is deleted, as an SRE does for a node gone
 * for good, and the former leader rejoins as a replica. The failover figures are printed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { PATRONI_TIMINGS } from "../../operator/postgres/patroni-settings.ts";
import { patroniView } from "../../operator/postgres/patroni-state.ts";
import type { Simulator } from "../../services/broker-sim/index.ts";
import type { RunHandle } from "../../services/pipeline/local-run.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import type { TestRun } from "../e2e/support.ts";
import {
  defaultPipeline,
  quiesceAndCheck,
  simState,
  startRun,
  startTestSimulator,
  waitFor as waitUntil,
} from "../e2e/support.ts";
import {
  type Kubelet,
  type PatroniPipeline,
  type PatroniPods,
  playKubelet,
  type RwService,
  startPatroniPipeline,
  startRwService,
} from "./patroni-pods.ts";
import { getJson, waitFor } from "./support.ts";

const NS = "pgflow";
const P = "flow";
const FAILOVER_WAIT_MS = (PATRONI_TIMINGS.ttl + 10 * PATRONI_TIMINGS.loopWait) * 1000 + 60_000;

let env: PatroniPipeline;
let cluster: ControlPlane;
let patroni: PatroniPods;
let kubelet: Kubelet;
let rw: RwService;
let sim: Simulator;
let run: TestRun | undefined;
let pool: pg.Pool | undefined;

/** leader: the pod Patroni leads from, as the operator reads it (label and status agree). */
function leader(): string | undefined {
  return patroniView([...kubelet.pods.values()] as KubeObject[] as never).leader;
}

const allReady = (h: RunHandle) => h.status().stages.every((s) => s.up && s.ready);
const engineReady = (h: RunHandle) =>
  h.status().stages.find((s) => s.name === "execution-engine")?.ready === true;
const stagePids = (h: RunHandle) => STAGE_PROCESSES.map((s) => h.pid(s));

describe("the Patroni leader killed under order flow, Kubernetes DCS", { timeout: 900_000 }, () => {
  before(async () => {
    env = await startPatroniPipeline(NS, P, { instances: 2, synchronous: true });
    ({ cluster, patroni } = env);
    kubelet = await playKubelet(cluster, NS, patroni);
    rw = await startRwService(patroni, leader);
  });

  after(async () => {
    run?.stop();
    await run?.run.catch(() => {});
    await pool?.end().catch(() => {});
    await sim?.close();
    await rw?.close();
    await kubelet?.stop();
    await env?.stop();
  });

  test("the stages ride out a leader crash: no committed row lost, no order sent twice, trading resumes", async () => {
    const first = await waitFor(
      "a leader and its synchronous standby",
      async () => {
        const l = leader();
        if (!l) return undefined;
        const r = await fetch(`${patroni.member(l).restUrl}/cluster`);
        const body = (await r.json()) as { members: { role: string }[] };
        return body.members.some((m) => m.role === "sync_standby") ? l : undefined;
      },
      300_000,
      500,
    );
    const standby = patroni.members.find((m) => m.name !== first)?.name as string;
    const url = `postgres://tradepipe:${encodeURIComponent(patroni.appPassword)}@localhost:${rw.port}/tradepipe`;
    const env = { DATABASE_CA_FILE: patroni.caFile };
    const pipeline = await defaultPipeline();
    sim = await startTestSimulator(pipeline, 5);
    run = startRun({ pipeline, simulator: sim, databaseUrl: url, fused: false, env });
    const h = await waitUntil("the pipeline to start", 180_000, run.handle);
    pool = new pg.Pool({
      connectionString: url,
      max: 2,
      ...patroni.verified(),
    });
    pool.on("error", () => {});
    await waitUntil("every stage ready", 180_000, () => allReady(h));
    await waitUntil("the first fill", 180_000, () => simState(sim).fills.length > 0);
    const pids = stagePids(h);
    // What is committed before the crash must be on the promoted standby, row by row.
    const committed = async () => {
      const audit = await pool?.query<{ id: string }>("SELECT id::text FROM order_audit_trail");
      const fills = await pool?.query<{ id: string }>("SELECT execution_id AS id FROM fills");
      return {
        audit: (audit?.rows ?? []).map((r) => r.id),
        fills: (fills?.rows ?? []).map((r) => r.id),
      };
    };
    // The fills are written behind the broker's report: wait for some rows to compare.
    const before = await waitUntil("orders and fills committed", 120_000, async () => {
      const rows = await committed();
      return rows.audit.length > 0 && rows.fills.length > 0 ? rows : undefined;
    });

    const t0 = performance.now();
    // A host crash: Patroni and Postgres killed, and the node down — its pod stays as it was
    // (kwok keeps it Ready with the labels its Patroni last wrote), nothing restarts it.
    await patroni.member(first).kill();
    await waitUntil("the execution-engine to stop acting", 60_000, () => !engineReady(h));
    const stopMs = performance.now() - t0;
    await waitFor(
      "the standby promoted by Patroni",
      async () => leader() === standby,
      FAILOVER_WAIT_MS,
      250,
    );
    const promotedMs = performance.now() - t0;
    await waitUntil("every stage ready again", 180_000, () => allReady(h));
    const readyMs = performance.now() - t0;
    const count = simState(sim).order_requests.length;
    await waitUntil(
      "a new order at the broker",
      180_000,
      () => simState(sim).order_requests.length > count,
    );
    const orderMs = performance.now() - t0;
    const s = (ms: number) => (ms / 1000).toFixed(1);
    process.stdout.write(
      `# Patroni leader killed under order flow (Kubernetes DCS, synchronous): execution-engine stopped acting after ${s(stopMs)} s; standby promoted and labelled after ${s(promotedMs)} s; every stage ready after ${s(readyMs)} s; first new order at the broker after ${s(orderMs)} s\n`,
    );
    assert.deepEqual(stagePids(h), pids, "no stage process exited");

    // The node is gone for good: the SRE deletes the pod (operator/README.md), the StatefulSet
    // makes it again, and its Patroni rejoins the new leader as a replica (pg_rewind).
    await cluster.kubectl(["delete", "pod", first, "-n", NS, "--wait=false"]);
    await waitFor(
      `${first} streaming from the new leader`,
      async () => {
        const pod = kubelet.pods.get(first);
        const status = JSON.parse(pod?.metadata.annotations?.status ?? "{}");
        return !pod?.metadata.deletionTimestamp && status.replication_state === "streaming";
      },
      180_000,
      500,
    );
    process.stdout.write(
      `# the former leader rejoined as a streaming replica after ${s(performance.now() - t0)} s\n`,
    );

    const after = await committed();
    const audit = new Set(after.audit);
    const fills = new Set(after.fills);
    assert.deepEqual(
      before.audit.filter((id) => !audit.has(id)),
      [],
      "audit rows lost",
    );
    assert.deepEqual(
      before.fills.filter((id) => !fills.has(id)),
      [],
      "fills lost",
    );
    const recorded = await waitFor("the failover recorded", async () => {
      const f = (await getJson(cluster, ["tp", P, "-n", NS])).status?.lastFailover;
      return f?.to === standby && f.reason === "Failover" ? f : undefined;
    });
    assert.equal(recorded.from, first);
    await quiesceAndCheck({ pool, sim, handle: h, stop: run.stop, run: run.run });
  });
});
