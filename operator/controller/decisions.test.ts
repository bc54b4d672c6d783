import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../kube/apply.ts";
import { haltState } from "./finalizer.ts";
import { leaderPodOf, planRollout, type RolloutPod } from "./rollout.ts";
import {
  canonical,
  computeStatus,
  leaseOutages,
  type StatusInput,
  type WorkloadView,
} from "./status.ts";

const stages = [
  "market-data",
  "signal-bridge",
  "risk-manager",
  "execution-engine",
  "position-tracker",
] as const;
const workloads = (ready: number, exists = true): WorkloadView[] =>
  stages.map((s) => ({
    name: `a-${s}`,
    stages: [s],
    exists,
    replicas: 2,
    readyReplicas: ready,
  }));
const base: StatusInput = {
  generation: 4,
  previous: undefined,
  deleting: false,
  killSwitch: false,
  workloads: workloads(1),
  leaders: new Map([["execution-engine", { holder: "a-execution-engine-1", epoch: 7 }]]),
  database: { ready: true, primary: "a-db-0", message: "primary a-db-0 ready" },
  rollingOut: [],
  now: new Date("2026-03-01T10:00:00Z"),
};
const cond = (s: ReturnType<typeof computeStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

test("all ready: Ready, Trading, phase Running, one condition per type at the generation", () => {
  const s = computeStatus(base);
  assert.equal(s.phase, "Running");
  assert.equal(s.trading, true);
  assert.equal(s.observedGeneration, 4);
  assert.equal(s.primary, "a-db-0");
  assert.deepEqual(
    s.conditions?.map((c) => [c.type, c.status, c.observedGeneration]),
    [
      ["DatabaseReady", "True", 4],
      ["KillSwitch", "False", 4],
      ["Ready", "True", 4],
      ["StagesReady", "True", 4],
      ["Trading", "True", 4],
    ],
  );
  const ee = s.stages?.find((x) => x.name === "executionEngine");
  assert.deepEqual(ee, {
    name: "executionEngine",
    replicas: 2,
    readyReplicas: 1,
    leader: "a-execution-engine-1",
    epoch: 7,
  });
});

test("a stage without an active instance: not ready, message names it; Degraded after Running", () => {
  const ws = workloads(1);
  ws[2] = { ...(ws[2] as WorkloadView), readyReplicas: 0 };
  const running = computeStatus(base);
  const s = computeStatus({ ...base, workloads: ws, previous: running });
  assert.equal(cond(s, "StagesReady")?.status, "False");
  assert.match(cond(s, "StagesReady")?.message ?? "", /a-risk-manager/);
  assert.equal(cond(s, "Trading")?.status, "False");
  assert.equal(s.phase, "Degraded");
  assert.equal(computeStatus({ ...base, workloads: ws }).phase, "Provisioning");
  assert.equal(computeStatus({ ...base, workloads: workloads(0, false) }).phase, "Pending");
});

test("the kill switch halts trading but the pipeline stays Ready; deletion says so", () => {
  const s = computeStatus({ ...base, killSwitch: true });
  assert.equal(s.phase, "Halted");
  assert.equal(s.trading, false);
  assert.equal(cond(s, "Ready")?.status, "True");
  assert.equal(cond(s, "Trading")?.reason, "KillSwitchEngaged");
  const d = computeStatus({ ...base, killSwitch: true, deleting: true });
  assert.equal(d.phase, "Terminating");
  assert.equal(cond(d, "KillSwitch")?.reason, "PipelineDeleting");
});

test("recomputing an unchanged state gives a canonically equal status (no write)", () => {
  const first = computeStatus(base);
  const again = computeStatus({ ...base, previous: first, now: new Date("2026-03-01T11:00:00Z") });
  assert.equal(canonical(first), canonical(again));
  const reordered = { ...first, conditions: [...(first.conditions ?? [])].reverse() };
  assert.equal(canonical(reordered), canonical(again));
});

test("a reconcile error shows as Ready=False ReconcileFailed, phase Failed", () => {
  const s = computeStatus({ ...base, reconcileError: "objects: 403 forbidden" });
  assert.equal(cond(s, "Ready")?.reason, "ReconcileFailed");
  assert.equal(s.phase, "Failed");
  assert.equal(s.trading, false);
});

const pod = (name: string, revision: string, o: Partial<RolloutPod> = {}): RolloutPod => ({
  name,
  revision,
  running: true,
  deleting: false,
  ...o,
});

test("rollout: standbys first, one at a time, the leader last once an updated standby runs", () => {
  const common = {
    updateRevision: "new",
    statusCurrent: true,
    replicas: 2,
    leaderPods: new Set(["s-0"]),
  };
  assert.deepEqual(planRollout({ ...common, pods: [pod("s-0", "old"), pod("s-1", "old")] }), {
    action: "delete",
    pod: "s-1",
    leader: false,
  });
  assert.equal(
    planRollout({ ...common, pods: [pod("s-0", "old"), pod("s-1", "new", { running: false })] })
      .action,
    "wait",
  );
  assert.deepEqual(planRollout({ ...common, pods: [pod("s-0", "old"), pod("s-1", "new")] }), {
    action: "delete",
    pod: "s-0",
    leader: true,
  });
  assert.equal(
    planRollout({ ...common, pods: [pod("s-0", "old"), pod("s-1", "old", { deleting: true })] })
      .action,
    "wait",
  );
  assert.equal(planRollout({ ...common, pods: [pod("s-0", "old")] }).action, "wait");
  assert.deepEqual(planRollout({ ...common, pods: [pod("s-0", "new"), pod("s-1", "new")] }), {
    action: "none",
  });
  assert.equal(planRollout({ ...common, statusCurrent: false, pods: [] }).action, "wait");
  assert.equal(
    leaderPodOf({ spec: { holderIdentity: "p-1/42/risk-manager" } } as unknown as KubeObject),
    "p-1",
  );
});

const lease = (spec: Record<string, unknown>, annotations: Record<string, string> = {}) =>
  ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "l", annotations },
    spec,
  }) as KubeObject;

test("halted: no lease, no holder, an expired lease, or the leader's acknowledgement at its epoch", () => {
  const now = Date.parse("2026-03-01T10:00:10Z");
  assert.equal(haltState(undefined, now).halted, true);
  assert.equal(haltState(lease({}), now).halted, true);
  const renewed = (t: string) => ({ holderIdentity: "p-0", renewTime: t, leaseDurationSeconds: 2 });
  assert.equal(haltState(lease(renewed("2026-03-01T10:00:05.000000Z")), now).halted, true);
  const live = renewed("2026-03-01T10:00:09.500000Z");
  assert.equal(haltState(lease(live, { "tradepipe.io/fencing-epoch": "3" }), now).halted, false);
  assert.equal(
    haltState(lease(live, { "tradepipe.io/fencing-epoch": "3", "tradepipe.io/halted": "2" }), now)
      .halted,
    false,
    "an acknowledgement from an older leader does not count",
  );
  assert.equal(
    haltState(lease(live, { "tradepipe.io/fencing-epoch": "3", "tradepipe.io/halted": "3" }), now)
      .halted,
    true,
  );
});

test("a stage's database outage is quoted in StagesReady, Ready and Trading", () => {
  const outage =
    "database unreachable since 2026-03-01T09:59:30.000Z: connect ECONNREFUSED 10.0.0.7:5432";
  const s = computeStatus({
    ...base,
    outages: new Map([
      ["execution-engine", [outage, outage]],
      ["market-data", []],
    ]),
  });
  const stagesReady = cond(s, "StagesReady");
  assert.equal(stagesReady?.status, "False");
  assert.equal(stagesReady?.reason, "DatabaseUnreachable");
  assert.equal(stagesReady?.message, `execution-engine: ${outage}`);
  assert.equal(cond(s, "Ready")?.status, "False");
  assert.match(cond(s, "Ready")?.message ?? "", /execution-engine: database unreachable since/);
  assert.match(cond(s, "Trading")?.message ?? "", /ECONNREFUSED/);
  assert.equal(s.trading, false);
  // Over: the condition is back as before.
  assert.equal(cond(computeStatus({ ...base, outages: new Map() }), "StagesReady")?.status, "True");
});

test("leaseOutages: the outage annotations of pods that exist, by pod", () => {
  const annotations = {
    "outage.tradepipe.io/a-execution-engine-1": "database unreachable since b: y",
    "outage.tradepipe.io/a-execution-engine-0": "database unreachable since a: x",
    "outage.tradepipe.io/a-execution-engine-9": "left by a pod that is gone",
    "tradepipe.io/fencing-epoch": "7",
  };
  const live = new Set(["a-execution-engine-0", "a-execution-engine-1"]);
  assert.deepEqual(leaseOutages(annotations, live), [
    "database unreachable since a: x",
    "database unreachable since b: y",
  ]);
  assert.deepEqual(leaseOutages(undefined, live), []);
});
