import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { ANNOTATION_KILL_SWITCH } from "../api/names.ts";
import type { Observed } from "./context.ts";
import { desiredObjects, killSwitchWanted } from "./steps.ts";

function observed(spec: object, metadata: object = {}): Observed {
  const r = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "a", namespace: "n", uid: "u" },
    spec,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { tp: r.pipeline, raw: { metadata } } as unknown as Observed;
}

const kinds = (ms: { kind: string }[]) => ms.map((m) => m.kind);

test("the kill switch is wanted when the spec asks for it or the pipeline is being deleted", () => {
  assert.equal(killSwitchWanted(observed({})), false);
  assert.equal(killSwitchWanted(observed({ killSwitch: true })), true);
  assert.equal(killSwitchWanted(observed({}, { deletionTimestamp: "2026-12-07T00:00:00Z" })), true);
});

test("first wave: network policies before anything, then what the second wave refers to", () => {
  const { first, second } = desiredObjects(observed({}));
  assert.equal(first[0]?.kind, "NetworkPolicy", "no pod may start on an open network");
  const firstKinds = new Set(kinds(first));
  for (const k of [
    "ConfigMap",
    "ServiceAccount",
    "Role",
    "Lease",
    "Service",
    "PodDisruptionBudget",
  ])
    assert.ok(firstKinds.has(k), `${k} in the first wave`);
  const secondKinds = new Set(kinds(second));
  for (const k of ["RoleBinding", "StatefulSet"])
    assert.ok(secondKinds.has(k), `${k} in the second wave`);
  for (const k of ["RoleBinding", "StatefulSet", "Deployment"])
    assert.ok(!firstKinds.has(k), `${k} never in the first wave`);
  for (const k of ["ServiceAccount", "Role", "ConfigMap", "NetworkPolicy"])
    assert.ok(!secondKinds.has(k), `${k} never in the second wave`);
});

test("the simulator's Service and Deployment exist only for a simulator broker", () => {
  const names = (o: Observed) => {
    const { first, second } = desiredObjects(o);
    return {
      first: first.map((m) => `${m.kind}/${m.metadata.name}`),
      second: second.map((m) => `${m.kind}/${m.metadata.name}`),
    };
  };
  const sim = names(observed({}));
  const alpaca = names(
    observed({ broker: { kind: "alpaca", credentialsSecretRef: { name: "keys" } } }),
  );
  const onlySim = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
  // The simulator's own NetworkPolicy comes with the policies; its Service is this step's.
  assert.ok(onlySim(sim.first, alpaca.first).some((n) => n.startsWith("Service/")));
  assert.deepEqual(
    onlySim(sim.second, alpaca.second).map((n) => n.split("/")[0]),
    ["Deployment"],
  );
  assert.deepEqual(onlySim(alpaca.first, sim.first), []);
  assert.deepEqual(onlySim(alpaca.second, sim.second), []);
});

test("the stages' Leases carry the kill switch when it is wanted", () => {
  const leases = (o: Observed) => desiredObjects(o).first.filter((m) => m.kind === "Lease");
  const annotated = (o: Observed) =>
    leases(o).map(
      (l) =>
        (l.metadata as { annotations?: Record<string, string> }).annotations?.[
          ANNOTATION_KILL_SWITCH
        ],
    );
  assert.ok(leases(observed({})).length > 0);
  assert.ok(annotated(observed({})).every((a) => a === undefined));
  assert.ok(annotated(observed({ killSwitch: true })).every((a) => a === "engaged"));
});
