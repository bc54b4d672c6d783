/**
 * database: the Postgres step. Patroni runs failover inside the database pods; this step only
 * reads Patroni's view (what it writes on its pods), reports it, and makes requests to Patroni's
 * REST API on the leader: a switchover when the pipeline asks for one (one-shot: the annotation
 * is removed once Patroni answers), and the dynamic configuration rendered from the spec
 * (PATCH /config; Patroni reloads, and marks members that need a restart).
 */
import { toRfc3339 } from "../api/conditions.ts";
import { ANNOTATION_SWITCHOVER, LABEL_COMPONENT, LABEL_PIPELINE } from "../api/names.ts";
import type { KubeObject } from "../kube/apply.ts";
import { RESOURCES, resourcePath } from "../kube/resources.ts";
import {
  configPatch,
  dynamicConfig,
  type PatroniView,
  patroniView,
  planSwitchover,
} from "../postgres/index.ts";
import { type Observed, observeWrite, type ReconcileContext, requeueSoon } from "./context.ts";

/** PATRONI_TIMEOUT_MS bounds every call to a Patroni REST API (a hung pod never stalls a pass). */
export const PATRONI_TIMEOUT_MS = 3000;

export async function reconcileDatabase(ctx: ReconcileContext, o: Observed): Promise<void> {
  const tp = o.tp;
  const pods = databasePods(ctx, o);
  const view = patroniView(pods as never);
  o.database.patroni = view;
  recordLeaderChange(ctx, o, view);

  if (view.leader) {
    await requestSwitchover(ctx, o, view);
    await applyDynamicConfig(ctx, o, view);
  }

  const leader = view.members.find((m) => m.name === view.leader);
  const replicas = view.members.filter((m) => m !== leader);
  const streaming = replicas.filter((m) => m.state === "streaming" || m.state === "running");
  const waitingRestart = view.members.filter((m) => m.pendingRestart).map((m) => m.name);
  if (view.leader) o.database.primary = view.leader;
  o.database.ready = Boolean(leader);
  if (!leader) {
    o.database.reason = pods.length === 0 ? "Provisioning" : "NoLeader";
    o.database.message = `Patroni reports no leader (${view.members.map((m) => `${m.name}: ${m.state || "no status"}`).join(", ") || "no pods"})`;
    requeueSoon(o, 2000);
    return;
  }
  const lag = replicas
    .map(
      (m) =>
        `${m.name} ${m.state || "unknown"}${m.lagBytes !== undefined ? `, ${m.lagBytes} B behind` : ""}`,
    )
    .join("; ");
  o.database.reason = waitingRestart.length > 0 ? "RestartPending" : "LeaderRunning";
  o.database.message =
    `leader ${leader.name} on timeline ${leader.timeline ?? "?"}, ${streaming.length} of ${tp.spec.database.instances - 1} replicas streaming` +
    (lag ? ` (${lag})` : "") +
    (waitingRestart.length > 0
      ? `; a configuration change waits for a restart of ${waitingRestart.join(", ")} (patronictl restart)`
      : "");
  // Patroni writes each change of state on its pod (an event that queues this pipeline); lag and
  // restarts are refreshed at least this often.
  requeueSoon(o, 15_000);
}

/** databasePods: the pipeline's database pods in the cache (terminating ones included). */
export function databasePods(ctx: ReconcileContext, o: Observed): KubeObject[] {
  const ns = o.tp.metadata.namespace ?? "default";
  return ctx.caches.Pod.list(
    (p) =>
      p.metadata.namespace === ns &&
      p.metadata.labels?.[LABEL_PIPELINE] === o.tp.metadata.name &&
      p.metadata.labels?.[LABEL_COMPONENT] === "database",
  );
}

/**
 * recordLeaderChange: a leader other than the recorded one (status.primary) is a failover
 * Patroni made, or the switchover it accepted (status.switchover). Both are read from the
 * cached pipeline, which holds this operator's own last status write (observeWrite), so a
 * change is recorded once however far the watch lags.
 */
function recordLeaderChange(ctx: ReconcileContext, o: Observed, view: PatroniView): void {
  const previous = o.tp.status?.primary;
  if (!view.leader || !previous || previous === view.leader) return;
  const asked = o.tp.status?.switchover;
  const reason = asked?.to === view.leader ? "Switchover" : "Failover";
  o.database.switchover = null;
  o.database.failover = {
    from: previous,
    to: view.leader,
    reason,
    time: toRfc3339(new Date(ctx.now())),
  };
  ctx.recorder.event(
    o.raw,
    reason === "Switchover" ? "Normal" : "Warning",
    reason,
    `Patroni moved the database leader from ${previous} to ${view.leader}`,
  );
}

async function requestSwitchover(
  ctx: ReconcileContext,
  o: Observed,
  view: PatroniView,
): Promise<void> {
  const target = o.raw.metadata.annotations?.[ANNOTATION_SWITCHOVER];
  const plan = planSwitchover(target, view);
  if (plan.act === "none") return;
  if (plan.act === "wait") {
    requeueSoon(o, 2000);
    return;
  }
  if (plan.act === "done") {
    await consumeSwitchover(ctx, o, target as string);
    return;
  }
  if (plan.act === "refuse") {
    ctx.recorder.event(o.raw, "Warning", "SwitchoverRefused", plan.why);
    await consumeSwitchover(ctx, o, target as string);
    return;
  }
  const answered = await askSwitchover(ctx, o, plan, "");
  if (!answered) return;
  // IMPORTANT: one-shot. Once Patroni has answered, the request is consumed: it never fires again.
  await consumeSwitchover(ctx, o, target as string);
}

/**
 * askSwitchover POSTs /switchover to the leader's Patroni once and reports the answer: accepted
 * (recorded in status.switchover until the leader changes, with an Event) or refused (a Warning
 * Event). False when Patroni did not answer: it may or may not have acted, and the next pass,
 * which sees which, decides again. `why` prefixes the Events (e.g. the rollout's reason).
 */
export async function askSwitchover(
  ctx: ReconcileContext,
  o: Observed,
  plan: { apiUrl: string; leader: string; candidate: string },
  why: string,
): Promise<boolean> {
  let status: number;
  let body: string;
  try {
    const r = await fetch(`${plan.apiUrl}/switchover`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ leader: plan.leader, candidate: plan.candidate }),
      signal: AbortSignal.timeout(PATRONI_TIMEOUT_MS * 10),
    });
    status = r.status;
    body = (await r.text()).trim();
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, to: plan.candidate }, "switchover request failed");
    requeueSoon(o, 2000);
    return false;
  }
  if (status === 200 || status === 202) {
    o.database.switchover = {
      from: plan.leader,
      to: plan.candidate,
      time: toRfc3339(new Date(ctx.now())),
    };
    ctx.recorder.event(
      o.raw,
      "Normal",
      "SwitchoverRequested",
      `${why}asked Patroni to move the leader from ${plan.leader} to ${plan.candidate}: ${body}`,
    );
  } else {
    ctx.recorder.event(
      o.raw,
      "Warning",
      "SwitchoverRefused",
      `${why}Patroni refused the switchover to ${plan.candidate} (HTTP ${status}): ${body}`,
    );
  }
  return true;
}

/** consumeSwitchover removes the annotation only if it still asks for `target` (test-guarded). */
async function consumeSwitchover(ctx: ReconcileContext, o: Observed, target: string) {
  const path = `/metadata/annotations/${ANNOTATION_SWITCHOVER.replace("/", "~1")}`;
  try {
    const written = await ctx.client.request<KubeObject>(
      "PATCH",
      resourcePath(RESOURCES.TradingPipeline, o.raw.metadata.namespace, o.raw.metadata.name),
      {
        body: [
          { op: "test", path, value: target },
          { op: "remove", path },
        ],
        contentType: "application/json-patch+json",
      },
    );
    observeWrite(ctx, written);
  } catch (err) {
    // 422: the annotation changed meanwhile (a new request): the next pass handles that one.
    if ((err as { status?: number }).status !== 422) throw err;
  }
}

async function applyDynamicConfig(ctx: ReconcileContext, o: Observed, view: PatroniView) {
  const leader = view.members.find((m) => m.name === view.leader);
  if (!leader?.apiUrl) return;
  let current: Record<string, unknown>;
  try {
    const r = await fetch(`${leader.apiUrl}/config`, {
      signal: AbortSignal.timeout(PATRONI_TIMEOUT_MS),
    });
    if (!r.ok) throw new Error(`GET /config: HTTP ${r.status}`);
    current = (await r.json()) as Record<string, unknown>;
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, "could not read Patroni's configuration");
    requeueSoon(o, 2000);
    return;
  }
  const patch = configPatch(dynamicConfig(o.tp), current);
  if (!patch) return;
  const r = await fetch(`${leader.apiUrl}/config`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
    signal: AbortSignal.timeout(PATRONI_TIMEOUT_MS),
  });
  if (!r.ok) throw new Error(`Patroni PATCH /config: HTTP ${r.status}: ${await r.text()}`);
  ctx.recorder.event(
    o.raw,
    "Normal",
    "DatabaseConfigured",
    `applied to Patroni's dynamic configuration: ${JSON.stringify(patch)}`,
  );
}

export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] })
    ?.conditions;
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}
