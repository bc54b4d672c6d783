/**
 * manager: runs the operator — informers for TradingPipelines and every kind it owns (started
 * at once, so a standby replica has warm caches and takes over fast), leader election on a
 * Lease, and reconcile workers that run only while this replica leads.
 */

import type { KubeClient } from "../../services/core/kube/client.ts";
import { LeaseElector } from "../../services/core/kube/lease-elector.ts";
import type { ElectionTiming } from "../../services/core/kube/lease-record.ts";
import type { Logger, Metrics } from "../../services/core/telemetry/index.ts";
import { FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_NAMESPACE, LABEL_PIPELINE } from "../api/names.ts";
import type { KubeObject } from "../kube/apply.ts";
import { Informer, objectKey } from "../kube/informer.ts";
import { RESOURCES, type ResourceType } from "../kube/resources.ts";
import { DEFAULT_NETWORK_SETTINGS, type NetworkSettings } from "../specs/network-policy.ts";
import type { Caches, ReconcileContext } from "./context.ts";
import { createEventRecorder } from "./events.ts";
import { reconcile } from "./reconcile.ts";
import { WorkQueue } from "./workqueue.ts";

export interface OperatorOptions {
  client: KubeClient;
  /** Watch one namespace; every namespace when omitted. */
  namespace?: string;
  /** Namespace and name of the operator's own Lease. */
  leaseNamespace: string;
  leaseName?: string;
  identity: string;
  timing?: Partial<ElectionTiming>;
  /**
   * Called when leadership is lost (other than by stop()) while reconciles are in flight: they
   * may still be writing, so the process should exit (`tradepipe operator` does; its Deployment
   * restarts it as a standby). With none in flight the workers are already stopped and the
   * replica simply stands by.
   */
  onLostLeadership?(reason: string): void;
  workers?: number;
  resyncMs?: number;
  haltTimeoutMs?: number;
  /** The pipelines' network policy settings (monitoring namespaces, API server ranges). */
  network?: NetworkSettings;
  log: Logger;
  metrics?: Metrics;
}

export interface RunningOperator {
  isLeader(): boolean;
  /** Resolves once every informer has listed. */
  synced: Promise<void>;
  caches: Caches;
  stats: ReconcileContext["stats"] & { reconciles: number; failures: number };
  stop(): Promise<void>;
}

export const OWNED_KINDS = [
  "StatefulSet",
  "Deployment",
  "Service",
  "ConfigMap",
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ClusterRoleBinding",
  "Lease",
  "PodDisruptionBudget",
  "NetworkPolicy",
  "Pod",
] as const;

/**
 * specOrMetaChanged filters out the operator's own status writes (controller-runtime's
 * generation predicate, plus the metadata a reconcile reads): without it every status patch
 * would trigger another reconcile at once, bypassing the work queue's backoff.
 */
export function specOrMetaChanged(old: KubeObject, now: KubeObject): boolean {
  const a = old.metadata;
  const b = now.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? []) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {}) ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {})
  );
}

export function startOperator(opts: OperatorOptions): RunningOperator {
  const log = opts.log;
  const resyncMs = opts.resyncMs ?? 60_000;
  let queue: WorkQueue | undefined;
  const enqueue = (key: string) => queue?.add(key);
  const onError = (kind: string) => (err: Error) =>
    log.warn({ kind, err: err.message }, "watch failed; restarting");

  const tpInformer = new Informer(opts.client, RESOURCES.TradingPipeline, {
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    resyncMs,
    onEvent: (type, obj, old) => {
      if (type !== "MODIFIED" || !old || specOrMetaChanged(old, obj)) enqueue(objectKey(obj));
    },
    onError: onError("TradingPipeline"),
  });
  const caches = { TradingPipeline: tpInformer } as Caches;
  for (const kind of OWNED_KINDS) {
    const rt: ResourceType = RESOURCES[kind];
    const namespaced = rt.namespaced !== false;
    caches[kind] = new Informer(opts.client, rt, {
      ...(opts.namespace && namespaced ? { namespace: opts.namespace } : {}),
      // A cluster-scoped child names its pipeline's namespace in a label (it has none itself).
      labelSelector: `${LABEL_MANAGED_BY}=${FIELD_MANAGER}${
        !namespaced && opts.namespace ? `,${LABEL_NAMESPACE}=${opts.namespace}` : ""
      }`,
      onEvent: (_type, obj: KubeObject) => {
        const pipeline = obj.metadata.labels?.[LABEL_PIPELINE];
        const ns = obj.metadata.namespace || obj.metadata.labels?.[LABEL_NAMESPACE];
        if (pipeline && ns) enqueue(`${ns}/${pipeline}`);
      },
      onError: onError(kind),
    });
  }
  const informers = Object.values(caches);
  for (const i of informers) i.start();
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => {});

  const stats = { applied: 0, skipped: 0, repaired: 0, reconciles: 0, failures: 0 };
  const recorder = createEventRecorder(opts.client, FIELD_MANAGER, (err) =>
    log.warn({ err: err.message }, "could not record an event"),
  );
  const ctx: ReconcileContext = {
    client: opts.client,
    caches,
    recorder,
    log,
    now: Date.now,
    haltTimeoutMs: opts.haltTimeoutMs ?? 30_000,
    stats,
    created: new Set(),
    written: new Map(),
    network: opts.network ?? DEFAULT_NETWORK_SETTINGS,
  };
  const m = opts.metrics;
  const reconcileSeconds = m?.latencyHistogram(
    "operator_reconcile_seconds",
    "Reconcile duration.",
    ["result"],
  );
  const leaderGauge = m?.gauge("operator_leader", "1 while this replica leads.");
  const depthGauge = m?.gauge("operator_queue_depth", "Keys waiting in the work queue.");
  const pipelinesGauge = m?.gauge("operator_pipelines", "TradingPipelines in the cache.");

  let inFlight = 0;
  async function worker(q: WorkQueue): Promise<void> {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      inFlight++;
      const started = process.hrtime.bigint();
      const slow = setTimeout(
        () => log.warn({ key }, "reconcile still running after 10 s"),
        10_000,
      );
      slow.unref();
      try {
        const result = await reconcile(ctx, key);
        q.forget(key);
        stats.reconciles++;
        if (result.requeueAfterMs !== undefined) q.addAfter(key, result.requeueAfterMs);
        reconcileSeconds?.observe(
          { result: "ok" },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      } catch (err) {
        stats.failures++;
        const delay = q.backoffFor(key);
        log.warn({ key, err: (err as Error).message, retryInMs: delay }, "reconcile failed");
        q.addAfter(key, delay);
        reconcileSeconds?.observe(
          { result: "error" },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      } finally {
        inFlight--;
        clearTimeout(slow);
        q.done(key);
        depthGauge?.set(q.length);
        pipelinesGauge?.set(tpInformer.size);
      }
    }
  }

  let workersDone: Promise<unknown> = Promise.resolve();
  const elector = new LeaseElector({
    client: opts.client,
    namespace: opts.leaseNamespace,
    name: opts.leaseName ?? "tradepipe-operator",
    identity: opts.identity,
    labels: { [LABEL_MANAGED_BY]: FIELD_MANAGER },
    ...opts.timing,
    onStartedLeading: ({ epoch }) => {
      log.info({ identity: opts.identity, epoch }, "leading: reconciling");
      leaderGauge?.set(1);
      const q = new WorkQueue();
      queue = q;
      void synced.then(() => {
        if (queue !== q) return;
        for (const tp of tpInformer.list()) q.add(objectKey(tp));
        workersDone = Promise.all(Array.from({ length: opts.workers ?? 8 }, () => worker(q)));
      });
    },
    onStoppedLeading: (reason) => {
      log.warn({ reason }, "leadership lost: reconciling stops");
      leaderGauge?.set(0);
      queue?.shutdown();
      queue = undefined;
      if (reason !== "released" && inFlight > 0) opts.onLostLeadership?.(reason);
    },
    onError: (err) => log.debug({ err: err.message }, "lease attempt failed"),
  });
  elector.start();

  return {
    isLeader: () => elector.isLeader,
    synced,
    caches,
    stats,
    async stop() {
      // IMPORTANT: finish the guarded work before giving the Lease up (client-go's order).
      queue?.shutdown();
      await workersDone;
      await elector.release();
      await recorder.flush();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
