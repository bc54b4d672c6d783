/**
 * Read-your-writes in the operator's cache, on a real apiserver: the reconcile steps run in this
 * process over informer caches whose pipeline watch is stopped on purpose (the worst case of a
 * watch that lags the operator's own writes). Patroni moves the leader; the first reconcile
 * records the failover and writes status.primary; the next reconcile reads that write from the
 * cache (the apiserver's answer put there by the write itself) and records nothing twice.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  FIELD_MANAGER,
  LABEL_DB_ROLE,
  LABEL_MANAGED_BY,
  LABEL_NAMESPACE,
} from "../../operator/api/names.ts";
import type { Caches, ReconcileContext } from "../../operator/controller/context.ts";
import { createEventRecorder } from "../../operator/controller/events.ts";
import { OWNED_KINDS } from "../../operator/controller/manager.ts";
import { reconcile } from "../../operator/controller/reconcile.ts";
import type { KubeObject } from "../../operator/kube/apply.ts";
import { Informer } from "../../operator/kube/informer.ts";
import { RESOURCES, type ResourceType, resourcePath } from "../../operator/kube/resources.ts";
import { DEFAULT_NETWORK_SETTINGS } from "../../operator/specs/network-policy.ts";
import {
  createKubeClient,
  type KubeClient,
  loadKubeConfig,
  MERGE_PATCH,
} from "../../services/core/kube/client.ts";
import { createLogger } from "../../services/core/telemetry/logger.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  applyYaml,
  createNamespace,
  samplePipeline,
  standInForPatroni,
  startClusterWithOperatorRbac,
  waitFor,
} from "./support.ts";

const NS = "ryw";
const P = "rho";
const KEY = `${NS}/${P}`;
let cluster: ControlPlane;
let client: KubeClient;
let caches: Caches;
let ctx: ReconcileContext;
/** The reasons of the Events the reconciles recorded, in order. */
const reasons: string[] = [];

function pipeline(): KubeObject & { status?: { primary?: string; lastFailover?: { to: string } } } {
  return caches.TradingPipeline.get(NS, P) as KubeObject;
}

/** patroniSays writes on a database pod what Patroni writes on its own pod. */
async function patroniSays(pod: string, role: "primary" | "replica", timeline: number) {
  const status = JSON.stringify({
    state: role === "primary" ? "running" : "streaming",
    role,
    timeline,
    xlog_location: 0,
  });
  await client.request("PATCH", resourcePath(RESOURCES.Pod, NS, pod), {
    body: { metadata: { labels: { [LABEL_DB_ROLE]: role }, annotations: { status } } },
    contentType: MERGE_PATCH,
  });
}

describe("the operator reads its own writes", { timeout: 300_000 }, () => {
  before(async () => {
    ({ cluster } = await startClusterWithOperatorRbac());
    client = await createKubeClient(loadKubeConfig(cluster.kubeconfigPath));
    await createNamespace(cluster, NS);
    await applyYaml(
      cluster,
      samplePipeline(P, NS, { database: { instances: 2, synchronous: false } }),
    );
    // The operator's caches, as its manager builds them (this process reconciles by hand).
    caches = {
      TradingPipeline: new Informer(client, RESOURCES.TradingPipeline, {
        namespace: NS,
        onEvent: () => {},
      }),
    } as Caches;
    for (const kind of OWNED_KINDS) {
      // A cluster-scoped child (the control listener's ClusterRoleBinding) is listed cluster-wide
      // and found by its namespace label, as the manager does: a namespaced list never syncs.
      const rt: ResourceType = RESOURCES[kind];
      const namespaced = rt.namespaced !== false;
      caches[kind] = new Informer(client, rt, {
        ...(namespaced ? { namespace: NS } : {}),
        labelSelector: `${LABEL_MANAGED_BY}=${FIELD_MANAGER}${namespaced ? "" : `,${LABEL_NAMESPACE}=${NS}`}`,
        onEvent: () => {},
      });
    }
    for (const informer of Object.values(caches)) informer.start();
    await Promise.all(Object.values(caches).map((i) => i.synced));
    const recorder = createEventRecorder(client, FIELD_MANAGER, () => {});
    ctx = {
      client,
      caches,
      recorder: {
        event: (obj, type, reason, message) => {
          reasons.push(reason);
          recorder.event(obj, type, reason, message);
        },
        flush: () => recorder.flush(),
      },
      log: createLogger({ name: "operator", level: "silent" }),
      now: Date.now,
      haltTimeoutMs: 30_000,
      stats: { applied: 0, skipped: 0, repaired: 0 },
      created: new Set(),
      written: new Map(),
      network: DEFAULT_NETWORK_SETTINGS,
    };
  });
  after(async () => {
    for (const informer of Object.values(caches ?? {})) await informer.stop();
    await ctx?.recorder.flush();
    await client?.close();
    await cluster?.stop();
  });

  test("a failover is recorded once although the pipeline's watch delivers nothing", async () => {
    await waitFor("the pipeline cached", async () => pipeline());
    await reconcile(ctx, KEY); // the objects, among them the database StatefulSet
    const stopStandIn = await standInForPatroni(cluster, NS);
    try {
      await waitFor("Patroni's leader on the cached pods", async () =>
        caches.Pod.get(NS, `${P}-db-0`)?.metadata.labels?.[LABEL_DB_ROLE] === "primary"
          ? true
          : undefined,
      );
    } finally {
      await stopStandIn();
    }
    await reconcile(ctx, KEY);
    assert.equal(pipeline().status?.primary, `${P}-db-0`);

    // From here the pipeline's cache learns only what the operator's own writes answer.
    await caches.TradingPipeline.stop();
    await patroniSays(`${P}-db-0`, "replica", 1);
    await patroniSays(`${P}-db-1`, "primary", 2);
    await waitFor("the new leader on the cached pods", async () =>
      caches.Pod.get(NS, `${P}-db-1`)?.metadata.labels?.[LABEL_DB_ROLE] === "primary" &&
      caches.Pod.get(NS, `${P}-db-0`)?.metadata.labels?.[LABEL_DB_ROLE] === "replica"
        ? true
        : undefined,
    );
    await reconcile(ctx, KEY);
    assert.equal(pipeline().status?.primary, `${P}-db-1`, "the status write is read back");
    assert.equal(pipeline().status?.lastFailover?.to, `${P}-db-1`);
    await reconcile(ctx, KEY);
    await reconcile(ctx, KEY);
    assert.deepEqual(
      reasons.filter((r) => r === "Failover" || r === "Switchover"),
      ["Failover"],
      "the leader change is recorded once",
    );
  });
});
