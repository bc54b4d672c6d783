import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { dynamicConfig } from "./patroni-settings.ts";
import { configPatch, patroniView, planSwitchover } from "./patroni-state.ts";

const pod = (name: string, role: string | undefined, status?: Record<string, unknown>) => {
  const labels: Record<string, string> = role ? { "tradepipe.io/db-role": role } : {};
  const annotations: Record<string, string> = status ? { status: JSON.stringify(status) } : {};
  return { metadata: { name, labels, annotations } };
};

test("Patroni's view: the leader is labelled primary AND reports primary running; lag from WAL positions", () => {
  const view = patroniView([
    pod("p-db-1", "replica", {
      role: "replica",
      state: "streaming",
      timeline: 3,
      xlog_location: 900,
    }),
    pod("p-db-0", "primary", {
      role: "primary",
      state: "running",
      timeline: 3,
      xlog_location: 1000,
      api_url: "http://10.0.0.5:8008/patroni",
    }),
    pod("p-db-2", undefined),
  ]);
  assert.equal(view.leader, "p-db-0");
  assert.equal(view.timeline, 3);
  assert.deepEqual(
    view.members.map((m) => [m.name, m.role, m.state, m.lagBytes]),
    [
      ["p-db-0", "primary", "running", undefined],
      ["p-db-1", "replica", "streaming", 100],
      ["p-db-2", "", "", undefined],
    ],
  );
  assert.equal(view.members[0]?.apiUrl, "http://10.0.0.5:8008");
  // A crashed leader's pod still claims it: the higher timeline is the promoted member.
  const stale = patroniView([
    pod("p-db-0", "primary", { role: "primary", state: "running", timeline: 3 }),
    pod("p-db-1", "primary", { role: "primary", state: "running", timeline: 4 }),
  ]);
  assert.equal(stale.leader, "p-db-1");
  // A demoted member whose label Patroni has not removed yet is not the leader.
  const demoting = patroniView([pod("p-db-0", "primary", { role: "replica", state: "running" })]);
  assert.equal(demoting.leader, undefined);
});

test("switchover requests: ask the leader once; done when the target leads; refuse a stranger", () => {
  const view = patroniView([
    pod("p-db-0", "primary", {
      role: "primary",
      state: "running",
      api_url: "http://a:8008/patroni",
    }),
    pod("p-db-1", "replica", { role: "replica", state: "streaming" }),
  ]);
  assert.deepEqual(planSwitchover(undefined, view), { act: "none" });
  assert.deepEqual(planSwitchover("p-db-1", view), {
    act: "request",
    leader: "p-db-0",
    candidate: "p-db-1",
    apiUrl: "http://a:8008",
  });
  assert.deepEqual(planSwitchover("p-db-0", view), { act: "done", target: "p-db-0" });
  assert.equal(planSwitchover("other-db-0", view).act, "refuse");
  assert.equal(planSwitchover("p-db-1", patroniView([pod("p-db-1", undefined)])).act, "wait");
});

test("dynamic configuration: only what differs is patched; nothing when Patroni already has it", () => {
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "p", namespace: "n" },
    spec: { database: { synchronous: true } },
  });
  if (!parsed.ok) throw new Error("bad sample");
  const desired = dynamicConfig(parsed.pipeline);
  // What Patroni echoes back: numbers and "on" as it stored them.
  const current = JSON.parse(JSON.stringify(desired)) as Record<string, unknown>;
  assert.equal(configPatch(desired, current), undefined);
  // Patroni's YAML 1.1 reads `hot_standby: on` as a boolean: the same setting, no patch.
  const yaml11 = JSON.parse(JSON.stringify(current)) as {
    postgresql: { parameters: Record<string, unknown> };
  };
  yaml11.postgresql.parameters.hot_standby = true;
  assert.equal(configPatch(desired, yaml11 as Record<string, unknown>), undefined);
  const asyncNow = { ...current, synchronous_mode: false };
  assert.deepEqual(configPatch(desired, asyncNow), { synchronous_mode: true });
  const params = current.postgresql as { parameters: Record<string, unknown> };
  const older = {
    ...current,
    postgresql: { ...params, parameters: { ...params.parameters, max_connections: "100" } },
  };
  assert.deepEqual(configPatch(desired, older), {
    postgresql: { parameters: { max_connections: 200 } },
  });
});
