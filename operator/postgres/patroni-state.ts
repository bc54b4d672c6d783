/**
 * patroni-state: Patroni's view of a pipeline's Postgres, read from what Patroni writes on its
 * pods (the role label and the `status` annotation), and the operator's requests to it, decided
 * purely: which switchover to ask for, and which dynamic settings to PATCH. The operator never
 * decides a failover: Patroni does.
 */
import { LABEL_DB_ROLE } from "../api/names.ts";

export interface PatroniMember {
  name: string;
  /** Patroni's role: primary, replica, … ("" before Patroni reported). */
  role: string;
  /** running, starting, stopped, … */
  state: string;
  /** A replica's replication: streaming (from the leader) or in archive recovery. */
  replicationState?: string;
  timeline?: number;
  /** WAL position Patroni last reported (bytes). */
  lsn?: number;
  /** Bytes behind the leader (replicas). */
  lagBytes?: number;
  /** A setting changed that needs a Postgres restart on this member. */
  pendingRestart: boolean;
  /** Patroni's REST API base, e.g. http://10.0.0.5:8008 */
  apiUrl?: string;
  /** The role label Patroni set on the pod (what the Services select on). */
  label?: string;
}

export interface PatroniView {
  leader?: string;
  timeline?: number;
  members: PatroniMember[];
}

interface PodLike {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
}

/** memberOf reads one pod: Patroni's status annotation is JSON (role, state, api_url, …). */
export function memberOf(pod: PodLike): PatroniMember {
  let status: Record<string, unknown> = {};
  try {
    status = JSON.parse(pod.metadata.annotations?.status ?? "{}") as Record<string, unknown>;
  } catch {
    // not Patroni's yet
  }
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const apiUrl =
    typeof status.api_url === "string" ? status.api_url.replace(/\/patroni$/, "") : undefined;
  const timeline = num(status.timeline);
  const lsn = num(status.xlog_location);
  const label = pod.metadata.labels?.[LABEL_DB_ROLE];
  const replicationState =
    typeof status.replication_state === "string" ? status.replication_state : undefined;
  return {
    name: pod.metadata.name,
    role: typeof status.role === "string" ? status.role : "",
    state: typeof status.state === "string" ? status.state : "",
    ...(replicationState ? { replicationState } : {}),
    ...(timeline !== undefined ? { timeline } : {}),
    ...(lsn !== undefined ? { lsn } : {}),
    pendingRestart: status.pending_restart === true,
    ...(apiUrl ? { apiUrl } : {}),
    ...(label ? { label } : {}),
  };
}

/**
 * patroniView: the leader is the pod Patroni labels primary and reports primary and running
 * (both, so a demoted member whose label is still being removed is never taken for it). A
 * crashed leader's pod keeps what its Patroni last wrote; of two such claims the higher
 * timeline is the promoted one, and a tie names no leader.
 */
export function patroniView(pods: readonly PodLike[]): PatroniView {
  const members = pods
    .filter((p) => !p.metadata.deletionTimestamp)
    .map(memberOf)
    .sort((a, b) => a.name.localeCompare(b.name));
  const claims = members
    .filter((m) => m.label === "primary" && m.role === "primary" && m.state === "running")
    .sort((a, b) => (b.timeline ?? 0) - (a.timeline ?? 0));
  const tied = claims.length > 1 && (claims[0]?.timeline ?? 0) === (claims[1]?.timeline ?? 0);
  const leader = tied ? undefined : claims[0];
  for (const m of members) {
    if (leader?.lsn !== undefined && m.lsn !== undefined && m !== leader)
      m.lagBytes = Math.max(0, leader.lsn - m.lsn);
  }
  return {
    members,
    ...(leader ? { leader: leader.name } : {}),
    ...(leader?.timeline !== undefined ? { timeline: leader.timeline } : {}),
  };
}

export type SwitchoverPlan =
  | { act: "none" }
  /** The named pod leads: the request is fulfilled, remove it. */
  | { act: "done"; target: string }
  /** Ask the leader's Patroni (POST /switchover). */
  | { act: "request"; leader: string; candidate: string; apiUrl: string }
  /** Cannot be asked now (no leader yet): look again later, keep the request. */
  | { act: "wait"; why: string }
  /** Never possible as asked: remove the request and say why. */
  | { act: "refuse"; why: string };

/** planSwitchover: what to do about `tradepipe.io/switchover-to=<target>`. */
export function planSwitchover(target: string | undefined, view: PatroniView): SwitchoverPlan {
  if (!target) return { act: "none" };
  if (view.leader === target) return { act: "done", target };
  if (!view.members.some((m) => m.name === target))
    return { act: "refuse", why: `${target} is not a database pod of this pipeline` };
  const leader = view.members.find((m) => m.name === view.leader);
  if (!leader?.apiUrl) return { act: "wait", why: "no leader to hand over from yet" };
  return { act: "request", leader: leader.name, candidate: target, apiUrl: leader.apiUrl };
}

/**
 * configPatch: the JSON merge patch that brings Patroni's dynamic configuration (`current`, from
 * GET /config) to `desired`, or undefined when every desired setting is already there. Only the
 * keys tradepipe renders are compared; values compare as strings (Patroni echoes "on"/"256MB"
 * as it stored them).
 */
export function configPatch(
  desired: Record<string, unknown>,
  current: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const [key, want] of Object.entries(desired)) {
    const have = current[key];
    if (isObject(want)) {
      const sub = configPatch(want, isObject(have) ? have : {});
      if (sub) patch[key] = sub;
    } else if (have === undefined || setting(have) !== setting(want)) {
      patch[key] = want;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** setting: a value as Postgres reads it (YAML 1.1 turns `on` into true on Patroni's side). */
function setting(v: unknown): string {
  if (v === true) return "on";
  if (v === false) return "off";
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
