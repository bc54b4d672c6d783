/**
 * status: what the TradingPipeline's status says, computed from what was observed (pure), and
 * the step that writes it through the status subresource only when it changed, with an Event
 * for each condition that changed status.
 */
import {
  type ConditionType,
  STAGE_NAMES,
  type StageStatus,
  type TradingPipelineStatus,
} from "../../services/core/spec/index.ts";
import { OUTAGE_ANNOTATION_PREFIX } from "../../services/pipeline/lease-outage-report.ts";
import { STAGE_PROCESS, type StageProcess } from "../../services/pipeline/stages.ts";
import { type ConditionInput, findCondition, setConditions } from "../api/conditions.ts";
import { ANNOTATION_FENCING_EPOCH, stageLeaseName } from "../api/names.ts";
import { derivePhase } from "../api/phase.ts";
import { serverSideApply } from "../kube/apply.ts";
import type { PatroniView } from "../postgres/patroni-state.ts";
import { buildStageWorkloads } from "../specs/stage-workload.ts";
import { type Observed, observeWrite, type ReconcileContext } from "./context.ts";
import { isPodReady } from "./database.ts";
import { leaderPodOf } from "./rollout.ts";
import { killSwitchWanted } from "./steps.ts";

export interface WorkloadView {
  name: string;
  stages: readonly StageProcess[];
  exists: boolean;
  replicas: number;
  readyReplicas: number;
}

export interface StatusInput {
  generation: number;
  previous: TradingPipelineStatus | undefined;
  deleting: boolean;
  killSwitch: boolean;
  workloads: readonly WorkloadView[];
  leaders: ReadonlyMap<StageProcess, { holder?: string; epoch?: number }>;
  database: Observed["database"];
  /**
   * What the stage instances report on their Leases (lease-outage-report.ts), e.g. "database
   * unreachable since …: …", per stage; only pods that exist.
   */
  outages?: ReadonlyMap<StageProcess, readonly string[]>;
  rollingOut: readonly string[];
  reconcileError?: string;
  /** Ready's reason with reconcileError (default ReconcileFailed), e.g. OwnershipConflict. */
  reconcileReason?: string;
  now: Date;
}

export function computeStatus(input: StatusInput): TradingPipelineStatus {
  const stages: StageStatus[] = STAGE_NAMES.map((name) => {
    const process = STAGE_PROCESS[name];
    const w = input.workloads.find((x) => x.stages.includes(process));
    const leader = input.leaders.get(process);
    return {
      name,
      replicas: w?.replicas ?? 0,
      readyReplicas: w?.readyReplicas ?? 0,
      ...(leader?.holder ? { leader: leader.holder } : {}),
      ...(leader?.epoch !== undefined ? { epoch: leader.epoch } : {}),
    };
  });
  const missing = input.workloads.filter((w) => !w.exists || w.readyReplicas < 1);
  // A stage instance that lost its database says why; that is what a person needs to read.
  const outages = [...(input.outages ?? new Map<StageProcess, readonly string[]>())]
    .filter(([, messages]) => messages.length > 0)
    .map(([stage, messages]) => `${stage}: ${[...new Set(messages)].join("; ")}`);
  const stagesReady: ConditionInput =
    outages.length > 0
      ? {
          type: "StagesReady",
          status: "False",
          reason: "DatabaseUnreachable",
          message: outages.join("; "),
        }
      : missing.length === 0
        ? input.rollingOut.length > 0
          ? {
              type: "StagesReady",
              status: "True",
              reason: "RollingOut",
              message: `every stage has an active instance; rolling out ${input.rollingOut.join(", ")}`,
            }
          : {
              type: "StagesReady",
              status: "True",
              reason: "AllStagesReady",
              message: "every stage has an active instance",
            }
        : {
            type: "StagesReady",
            status: "False",
            reason: input.workloads.some((w) => w.exists) ? "InstancesUnavailable" : "Provisioning",
            message: `waiting for ${missing.map((w) => w.name).join(", ")}`,
          };
  const dbReady: ConditionInput = input.database.ready
    ? {
        type: "DatabaseReady",
        status: "True",
        reason: input.database.reason ?? "LeaderRunning",
        message: input.database.message,
      }
    : {
        type: "DatabaseReady",
        status: "False",
        reason: input.database.reason ?? "Provisioning",
        message: input.database.message,
      };
  const killSwitch: ConditionInput = input.deleting
    ? {
        type: "KillSwitch",
        status: "True",
        reason: "PipelineDeleting",
        message: "the pipeline is being deleted: trading halts first",
      }
    : input.killSwitch
      ? {
          type: "KillSwitch",
          status: "True",
          reason: "EngagedBySpec",
          message: "spec.killSwitch is true: no new orders, open orders cancelled",
        }
      : {
          type: "KillSwitch",
          status: "False",
          reason: "Released",
          message: "spec.killSwitch is false",
        };
  const allReady = stagesReady.status === "True" && dbReady.status === "True";
  const ready: ConditionInput = input.reconcileError
    ? {
        type: "Ready",
        status: "False",
        reason: input.reconcileReason ?? "ReconcileFailed",
        message: input.reconcileError,
      }
    : allReady
      ? {
          type: "Ready",
          status: "True",
          reason: "AllComponentsReady",
          message: "stages and database are ready",
        }
      : {
          type: "Ready",
          status: "False",
          reason: "ComponentsNotReady",
          message: [stagesReady, dbReady]
            .filter((c) => c.status !== "True")
            .map((c) => c.message)
            .join("; "),
        };
  const trading = allReady && killSwitch.status === "False" && !input.reconcileError;
  const tradingCondition: ConditionInput = trading
    ? { type: "Trading", status: "True", reason: "TradingEnabled", message: "orders may be sent" }
    : {
        type: "Trading",
        status: "False",
        reason: killSwitch.status === "True" ? "KillSwitchEngaged" : "NotReady",
        message: killSwitch.status === "True" ? killSwitch.message : ready.message,
      };
  const conditions = setConditions(
    input.previous?.conditions ?? [],
    [ready, dbReady, stagesReady, tradingCondition, killSwitch],
    input.generation,
    input.now,
  );
  const fresh = !input.workloads.some((w) => w.exists);
  const primary = input.database.primary ?? input.previous?.primary;
  const lastFailover = input.database.failover ?? input.previous?.lastFailover;
  const switchover =
    input.database.switchover === undefined
      ? input.previous?.switchover
      : (input.database.switchover ?? undefined);
  return {
    phase: derivePhase({
      conditions,
      deleting: input.deleting,
      fresh,
      previous: input.previous?.phase,
    }),
    trading,
    ...(primary ? { primary } : {}),
    observedGeneration: input.generation,
    conditions,
    stages,
    ...(lastFailover ? { lastFailover } : {}),
    ...(switchover ? { switchover } : {}),
    ...(input.database.patroni ? { database: databaseStatus(input.database.patroni) } : {}),
  };
}

/** observeWorkloads reads the stage StatefulSets and Leases from the caches. */
export function observeStages(ctx: ReconcileContext, o: Observed) {
  const ns = o.tp.metadata.namespace ?? "default";
  // Readiness is counted from the pods themselves, not the StatefulSet's status: one hop less,
  // and it does not lag behind a busy StatefulSet controller.
  const workloads: WorkloadView[] = buildStageWorkloads(o.tp).map((desired) => {
    const sts = ctx.caches.StatefulSet.get(ns, desired.metadata.name);
    const selector = desired.spec?.selector.matchLabels ?? {};
    const pods = ctx.caches.Pod.list(
      (p) =>
        p.metadata.namespace === ns &&
        !p.metadata.deletionTimestamp &&
        Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
    );
    const stagesOf = (desired.spec?.template.spec?.containers ?? []).map(
      (c) => c.name as StageProcess,
    );
    return {
      name: desired.metadata.name,
      stages: stagesOf,
      exists: Boolean(sts),
      replicas: pods.length,
      readyReplicas: pods.filter(isPodReady).length,
    };
  });
  const leaders = new Map<StageProcess, { holder?: string; epoch?: number }>();
  const outages = new Map<StageProcess, string[]>();
  const livePods = new Set(
    ctx.caches.Pod.list((p) => p.metadata.namespace === ns && !p.metadata.deletionTimestamp).map(
      (p) => p.metadata.name,
    ),
  );
  for (const name of STAGE_NAMES) {
    const process = STAGE_PROCESS[name];
    const lease = ctx.caches.Lease.get(ns, stageLeaseName(o.tp.metadata.name, process));
    outages.set(process, leaseOutages(lease?.metadata.annotations, livePods));
    const epoch = lease?.metadata.annotations?.[ANNOTATION_FENCING_EPOCH];
    const holder = leaderPodOf(lease);
    leaders.set(process, {
      ...(holder ? { holder } : {}),
      ...(epoch ? { epoch: Number(epoch) } : {}),
    });
  }
  return { workloads, leaders, outages };
}

/**
 * leaseOutages: the outage messages on a stage Lease (one annotation per pod, written by the
 * stage), of pods that still exist (a pod gone mid-outage cannot clear its own), sorted by pod.
 */
export function leaseOutages(
  annotations: Record<string, string> | undefined,
  livePods: ReadonlySet<string>,
): string[] {
  return Object.entries(annotations ?? {})
    .filter(([k, v]) => k.startsWith(OUTAGE_ANNOTATION_PREFIX) && v !== "")
    .filter(([k]) => livePods.has(k.slice(OUTAGE_ANNOTATION_PREFIX.length)))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, v]) => v);
}

export async function reconcileStatus(
  ctx: ReconcileContext,
  o: Observed,
  reconcileError?: string,
  reconcileReason?: string,
): Promise<void> {
  const { workloads, leaders, outages } = observeStages(ctx, o);
  const previous = o.tp.status;
  const next = computeStatus({
    generation: o.raw.metadata.generation ?? 0,
    previous,
    deleting: Boolean(o.raw.metadata.deletionTimestamp),
    killSwitch: killSwitchWanted(o),
    workloads,
    leaders,
    outages,
    database: o.database,
    rollingOut: o.rollingOut,
    ...(reconcileError ? { reconcileError } : {}),
    ...(reconcileReason ? { reconcileReason } : {}),
    now: new Date(ctx.now()),
  });
  if (canonical(previous) === canonical(next)) return;
  const written = await serverSideApply(
    ctx.client,
    {
      apiVersion: o.raw.apiVersion,
      kind: o.raw.kind,
      metadata: { name: o.raw.metadata.name, namespace: o.raw.metadata.namespace },
      status: next,
    },
    "status",
  );
  observeWrite(ctx, written);
  for (const c of next.conditions ?? []) {
    const before = findCondition(previous?.conditions, c.type as ConditionType);
    if (before?.status === c.status) continue;
    if (!before && c.status !== "True") continue;
    const warning =
      c.type === "Ready" ||
      c.type === "Trading" ||
      c.type === "DatabaseReady" ||
      c.type === "StagesReady"
        ? c.status !== "True"
        : c.status === "True";
    ctx.recorder.event(
      o.raw,
      warning ? "Warning" : "Normal",
      c.reason,
      `${c.type}=${c.status}: ${c.message}`,
    );
  }
}

/** canonical: JSON with sorted keys and conditions by type, to compare statuses by content. */
export function canonical(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(walk);
      const typed = items.every((x) => typeof (x as { type?: unknown })?.type === "string");
      return typed
        ? [...items].sort((a, b) =>
            String((a as { type: string }).type).localeCompare(
              String((b as { type: string }).type),
            ),
          )
        : items;
    }
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(value ?? null));
}

/** databaseStatus: Patroni's view as status.database (leader, timeline, members with lag). */
function databaseStatus(view: PatroniView) {
  return {
    ...(view.leader ? { leader: view.leader } : {}),
    ...(view.timeline !== undefined ? { timeline: view.timeline } : {}),
    members: view.members.map((m) => ({
      name: m.name,
      role: m.role || "unknown",
      state: m.state || "unknown",
      ...(m.timeline !== undefined ? { timeline: m.timeline } : {}),
      ...(m.lagBytes !== undefined ? { lagBytes: m.lagBytes } : {}),
      ...(m.pendingRestart ? { pendingRestart: true } : {}),
    })),
  };
}
