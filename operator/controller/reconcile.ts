/**
 * reconcile: one pass over one TradingPipeline. The outer function fetches it from the cache,
 * handles deletion (kill switch, then the finalizer) and turns failures into a ReconcileFailed
 * status; the inner one is a flat list of steps, each applying what it owns.
 */
import { parsePipeline, type TradingPipeline } from "../../services/core/spec/index.ts";
import { FINALIZER } from "../api/names.ts";
import { type KubeObject, serverSideApply } from "../kube/apply.ts";
import { type Observed, observeWrite, type ReconcileContext } from "./context.ts";
import { reconcileDatabase } from "./database.ts";
import { reconcileDatabaseRollout } from "./database-rollout.ts";
import { ReconcileRefused } from "./ensure.ts";
import { engageKillSwitch, finalize } from "./finalizer.ts";
import { reconcileRollout } from "./rollout.ts";
import { reconcileStatus } from "./status.ts";
import { reconcileObjects } from "./steps.ts";

export interface ReconcileResult {
  requeueAfterMs?: number;
}

type Step = (ctx: ReconcileContext, o: Observed) => Promise<void>;

/** STEPS run in order; each returns early by itself when it has nothing to do. */
const STEPS: readonly [string, Step][] = [
  ["objects", reconcileObjects],
  ["database", reconcileDatabase],
  ["database-rollout", reconcileDatabaseRollout],
  ["rollout", reconcileRollout],
];

export async function reconcile(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const raw = ctx.caches.TradingPipeline.get(namespace, name);
  if (!raw) return {};
  const parsed = parsePipeline(raw);
  const observed: Observed = {
    tp: (parsed.ok ? parsed.pipeline : raw) as TradingPipeline,
    raw,
    database: { ready: false, message: "not observed yet" },
    rollingOut: [],
  };
  if (raw.metadata.deletionTimestamp) return reconcileDeletion(ctx, observed);
  if (!parsed.ok) {
    // The CRD's schema should make this impossible; say what is wrong rather than guess.
    const message = parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    await reconcileStatus(ctx, observed, `invalid spec: ${message}`);
    return {};
  }
  const finalizer = raw.metadata.finalizers?.includes(FINALIZER)
    ? Promise.resolve()
    : addFinalizer(ctx, raw);
  let step = "";
  try {
    // The finalizer goes on alongside the first step: until children exist there is nothing
    // to halt, so it needn't be there before them.
    const timings: Record<string, number> = {};
    let t = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      timings[name] = Math.round((now - t) * 10) / 10;
      t = now;
    };
    for (const [stepName, run] of STEPS) {
      step = stepName;
      await run(ctx, observed);
      if (stepName === "objects") await finalizer;
      lap(stepName);
    }
    step = "status";
    await reconcileStatus(ctx, observed);
    lap("status");
    ctx.log.debug({ key, ms: timings }, "reconciled");
  } catch (err) {
    const message = `${step}: ${(err as Error).message}`;
    const reason = err instanceof ReconcileRefused ? err.reason : undefined;
    await reconcileStatus(ctx, observed, message, reason).catch(() => {});
    throw new Error(message, { cause: err });
  }
  return observed.requeueAfterMs !== undefined ? { requeueAfterMs: observed.requeueAfterMs } : {};
}

async function reconcileDeletion(ctx: ReconcileContext, o: Observed): Promise<ReconcileResult> {
  if (!o.raw.metadata.finalizers?.includes(FINALIZER)) return {};
  // Engage the kill switch on every existing stage Lease, then wait for the halt.
  await engageKillSwitch(ctx, o);
  await reconcileStatus(ctx, o).catch(() => {});
  const done = await finalize(ctx, o);
  return done || o.requeueAfterMs === undefined ? {} : { requeueAfterMs: o.requeueAfterMs };
}

/** addFinalizer: applied with the one field manager, which then owns just that list entry. */
async function addFinalizer(ctx: ReconcileContext, raw: KubeObject): Promise<void> {
  const written = await serverSideApply(ctx.client, {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata: {
      name: raw.metadata.name,
      namespace: raw.metadata.namespace,
      finalizers: [FINALIZER],
    },
  });
  observeWrite(ctx, written);
  ctx.recorder.event(
    raw,
    "Normal",
    "FinalizerAdded",
    `trading halts before this pipeline's objects are deleted`,
  );
}
