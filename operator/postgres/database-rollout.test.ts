import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePipeline } from "../../services/core/spec/index.ts";
import {
  CAUGHT_UP_BYTES,
  chooseCandidate,
  type DatabasePod,
  type DatabaseRolloutInput,
  planDatabaseRollout,
} from "./database-rollout.ts";
import { patroniView } from "./patroni-state.ts";
import { buildDatabaseStatefulSet } from "./resources.ts";

type Member = { role: string; state: string; replication?: string; tl?: number; lsn?: number };

/** A database pod as Patroni writes it: role label and status annotation. */
const pod = (name: string, m: Member | undefined) => ({
  metadata: {
    name,
    labels: (m
      ? { "tradepipe.io/db-role": m.role === "primary" ? "primary" : "replica" }
      : {}) as Record<string, string>,
    annotations: m
      ? {
          status: JSON.stringify({
            role: m.role,
            state: m.state,
            ...(m.replication ? { replication_state: m.replication } : {}),
            timeline: m.tl ?? 2,
            xlog_location: m.lsn ?? 5000,
            api_url: `http://${name}:8008/patroni`,
          }),
        }
      : ({} as Record<string, string>),
  },
});
const leader: Member = { role: "primary", state: "running" };
const streaming: Member = { role: "replica", state: "running", replication: "streaming" };

function input(
  members: Record<string, Member | undefined>,
  revisions: Record<string, string>,
  more: Partial<DatabaseRolloutInput> = {},
): DatabaseRolloutInput {
  const names = Object.keys(revisions);
  const pods: DatabasePod[] = names.map((name) => ({
    name,
    revision: revisions[name],
    deleting: false,
    ready: true,
  }));
  return {
    updateRevision: "new",
    statusCurrent: true,
    instances: names.length,
    synchronous: false,
    pods,
    view: patroniView(Object.entries(members).map(([name, m]) => pod(name, m))),
    ...more,
  };
}

test("nothing to roll when every pod runs the current revision", () => {
  const plan = planDatabaseRollout(
    input({ "p-db-0": leader, "p-db-1": streaming }, { "p-db-0": "new", "p-db-1": "new" }),
  );
  assert.deepEqual(plan, { action: "none" });
});

test("replicas go first, highest ordinal first, the leader never while it leads", () => {
  const members = { "p-db-0": streaming, "p-db-1": leader, "p-db-2": streaming };
  const plan = planDatabaseRollout(
    input(members, { "p-db-0": "old", "p-db-1": "old", "p-db-2": "old" }),
  );
  assert.equal(plan.action, "delete");
  assert.equal(plan.action === "delete" && plan.pod, "p-db-2");
  assert.equal(plan.action === "delete" && plan.downtime, false);
  // db-2 replaced and back: db-0 next (the leader db-1 stays).
  const next = planDatabaseRollout(
    input(members, { "p-db-0": "old", "p-db-1": "old", "p-db-2": "new" }),
  );
  assert.equal(next.action === "delete" && next.pod, "p-db-0");
});

test("one at a time: the next pod waits until the replaced one streams, caught up, on the leader's timeline", () => {
  const revisions = { "p-db-0": "old", "p-db-1": "old", "p-db-2": "new" };
  const cases: [Member | undefined, RegExp][] = [
    [undefined, /p-db-2 has not reported to Patroni yet/],
    [{ role: "replica", state: "starting" }, /p-db-2 is starting/],
    [{ role: "replica", state: "running", replication: "in archive recovery" }, /archive/],
    [{ ...streaming, tl: 1 }, /timeline 1/],
    [{ ...streaming, lsn: 5000 - CAUGHT_UP_BYTES - 1 }, /1048577 B behind/],
  ];
  for (const [member, why] of cases) {
    const plan = planDatabaseRollout(
      input({ "p-db-0": streaming, "p-db-1": leader, "p-db-2": member }, revisions),
    );
    assert.equal(plan.action, "wait", JSON.stringify(member));
    assert.match(plan.action === "wait" ? plan.reason : "", why);
    assert.match(plan.action === "wait" ? plan.reason : "", /to rejoin as a streaming/);
  }
  // Patroni says streaming but the pod is not Ready (its kubelet's probe of /readiness): wait.
  const unready = input({ "p-db-0": streaming, "p-db-1": leader, "p-db-2": streaming }, revisions);
  const notReady = planDatabaseRollout({
    ...unready,
    pods: unready.pods.map((p) => (p.name === "p-db-2" ? { ...p, ready: false } : p)),
  });
  assert.match(notReady.action === "wait" ? notReady.reason : "", /p-db-2.*pod not Ready/);
  const caughtUp = { ...streaming, lsn: 5000 - CAUGHT_UP_BYTES };
  const plan = planDatabaseRollout(
    input({ "p-db-0": streaming, "p-db-1": leader, "p-db-2": caughtUp }, revisions),
  );
  assert.equal(plan.action === "delete" && plan.pod, "p-db-0");
});

test("an outdated replica that is unwell is replaced before a healthy one", () => {
  const plan = planDatabaseRollout(
    input(
      { "p-db-0": leader, "p-db-1": { role: "replica", state: "stopped" }, "p-db-2": streaming },
      { "p-db-0": "old", "p-db-1": "old", "p-db-2": "old" },
    ),
  );
  assert.equal(plan.action === "delete" && plan.pod, "p-db-1");
});

test("a pod terminating or not yet recreated, or no leader: wait", () => {
  const members = { "p-db-0": leader, "p-db-1": streaming };
  const base = input(members, { "p-db-0": "old", "p-db-1": "old" });
  const terminating = planDatabaseRollout({
    ...base,
    pods: base.pods.map((p) => (p.name === "p-db-1" ? { ...p, deleting: true } : p)),
  });
  assert.match(terminating.action === "wait" ? terminating.reason : "", /p-db-1 to terminate/);
  const missing = planDatabaseRollout({ ...base, pods: base.pods.slice(0, 1) });
  assert.match(missing.action === "wait" ? missing.reason : "", /to be created/);
  const leaderless = planDatabaseRollout(
    input({ "p-db-0": streaming, "p-db-1": streaming }, { "p-db-0": "old", "p-db-1": "old" }),
  );
  assert.match(leaderless.action === "wait" ? leaderless.reason : "", /no leader/);
  const stale = planDatabaseRollout({ ...base, statusCurrent: false });
  assert.equal(stale.action, "wait");
});

test("only the leader left: switch over to an updated caught-up replica, never delete it", () => {
  const plan = planDatabaseRollout(
    input(
      { "p-db-0": leader, "p-db-1": streaming, "p-db-2": { ...streaming, lsn: 4000 } },
      { "p-db-0": "old", "p-db-1": "new", "p-db-2": "new" },
    ),
  );
  assert.equal(plan.action, "switchover");
  assert.deepEqual(plan.action === "switchover" && plan.candidates, ["p-db-1", "p-db-2"]);
  assert.equal(plan.action === "switchover" && plan.leader, "p-db-0");
  // The updated replica is not back yet: wait, do not touch the leader.
  const notBack = planDatabaseRollout(
    input(
      { "p-db-0": leader, "p-db-1": { role: "replica", state: "starting" } },
      { "p-db-0": "old", "p-db-1": "new" },
    ),
  );
  assert.equal(notBack.action, "wait");
});

test("a switchover asked is waited for, and asked again only after a while", () => {
  const members = { "p-db-0": leader, "p-db-1": streaming };
  const revisions = { "p-db-0": "old", "p-db-1": "new" };
  const pending = { from: "p-db-0", to: "p-db-1", ageMs: 5000 };
  const waiting = planDatabaseRollout(input(members, revisions, { pendingSwitchover: pending }));
  assert.match(waiting.action === "wait" ? waiting.reason : "", /hand the leader over/);
  const again = planDatabaseRollout(
    input(members, revisions, { pendingSwitchover: { ...pending, ageMs: 61_000 } }),
  );
  assert.equal(again.action, "switchover");
  // A switchover asked by annotation goes first.
  const asked = planDatabaseRollout(input(members, revisions, { requestedSwitchover: "p-db-1" }));
  assert.match(asked.action === "wait" ? asked.reason : "", /was asked for/);
  // After the switchover the old leader is an outdated replica: now its pod goes.
  const moved = planDatabaseRollout(input({ "p-db-0": streaming, "p-db-1": leader }, revisions));
  assert.equal(moved.action === "delete" && moved.pod, "p-db-0");
});

test("a single instance restarts in place, with downtime said", () => {
  const plan = planDatabaseRollout(input({ "p-db-0": leader }, { "p-db-0": "old" }));
  assert.equal(plan.action, "delete");
  assert.equal(plan.action === "delete" && plan.downtime, true);
  assert.match(plan.action === "delete" ? plan.reason : "", /single instance.*with downtime/);
});

test("the switchover candidate: in synchronous mode only Patroni's synchronous standby", () => {
  const cluster = [
    { name: "p-db-0", role: "leader", state: "running" },
    { name: "p-db-1", role: "replica", state: "streaming" },
    { name: "p-db-2", role: "sync_standby", state: "streaming" },
  ];
  assert.deepEqual(chooseCandidate(["p-db-1", "p-db-2"], cluster, true), { candidate: "p-db-2" });
  assert.deepEqual(chooseCandidate(["p-db-1", "p-db-2"], cluster, false), {
    candidate: "p-db-1",
  });
  const noneSync = chooseCandidate(["p-db-1"], cluster, true);
  assert.match("none" in noneSync ? noneSync.none : "", /synchronous standby/);
  const stopped = chooseCandidate(["p-db-1"], [{ name: "p-db-1", state: "stopped" }], false);
  assert.ok("none" in stopped);
});

test("what rolls the database pods: the image or what Patroni reads at start, not a dynamic setting", () => {
  const template = (database: Record<string, unknown>) => {
    const parsed = parsePipeline({
      apiVersion: "tradepipe.io/v1alpha1",
      kind: "TradingPipeline",
      metadata: { name: "p", namespace: "n", uid: "u-1" },
      spec: { database: { instances: 2, ...database } },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return JSON.stringify(buildDatabaseStatefulSet(parsed.pipeline).spec?.template);
  };
  const base = template({ synchronous: false });
  // Synchronous mode reaches Patroni through PATCH /config: no pod restarts for it.
  assert.equal(template({ synchronous: true }), base);
  assert.notEqual(template({ synchronous: false, image: "registry.example/pg:2" }), base);
  assert.notEqual(template({ synchronous: false, resources: { cpu: 2, memory: "4Gi" } }), base);
});
