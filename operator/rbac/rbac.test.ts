import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { OWNED_KINDS } from "../controller/manager.ts";
import { desiredObjects } from "../controller/steps.ts";
import { RESOURCES, type ResourceType, resourceByKind } from "../kube/resources.ts";
import { buildDatabaseSecret, PATRONI_RULES } from "../postgres/resources.ts";

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

function granted(): Map<string, Set<string>> {
  const docs = parseAllDocuments(
    readFileSync(new URL("./operator-rbac.yaml", import.meta.url), "utf8"),
  );
  const role = docs.map((d) => d.toJS()).find((d) => d.kind === "ClusterRole");
  const out = new Map<string, Set<string>>();
  for (const rule of role.rules as Rule[]) {
    for (const g of rule.apiGroups)
      for (const r of rule.resources) {
        const key = `${g}/${r}`;
        const verbs = out.get(key) ?? new Set();
        for (const v of rule.verbs) verbs.add(v);
        out.set(key, verbs);
      }
  }
  return out;
}

/** required: what the operator's code does, derived from the code's own tables. */
function required(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const need = (rt: ResourceType | string, ...verbs: string[]) => {
    const key = typeof rt === "string" ? rt : `${rt.group}/${rt.plural}`;
    const set = out.get(key) ?? new Set();
    for (const v of verbs) set.add(v);
    out.set(key, set);
  };
  // Informers.
  need(RESOURCES.TradingPipeline, "list", "watch");
  for (const kind of OWNED_KINDS) need(RESOURCES[kind], "list", "watch");
  // Finalizer (apply, JSON patch), status (apply), owner references with blockOwnerDeletion.
  need(RESOURCES.TradingPipeline, "patch");
  need("tradepipe.io/tradingpipelines/status", "patch");
  need("tradepipe.io/tradingpipelines/finalizers", "update");
  // Every applied child, of every topology and broker kind: server-side apply creates or patches.
  for (const spec of [
    {},
    { placement: { topology: "colocated" } },
    { broker: { kind: "alpaca", credentialsSecretRef: { name: "keys" } } },
  ]) {
    const r = parsePipeline({
      apiVersion: "tradepipe.io/v1alpha1",
      kind: "TradingPipeline",
      metadata: { name: "a", namespace: "n", uid: "u" },
      spec,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const { first, second } = desiredObjects({ tp: r.pipeline, raw: { metadata: {} } } as never);
    for (const m of [...first, ...second]) need(resourceByKind(m.kind), "create", "patch");
    const pw = { app: "x", superuser: "x", replication: "x", rewind: "x" };
    need(resourceByKind(buildDatabaseSecret(r.pipeline, pw).kind), "create");
  }
  // Pods: the stages' rollout deletes them (patch comes with Patroni's Role, below). Events.
  need(RESOURCES.Pod, "delete");
  need(RESOURCES.Event, "create");
  // Patroni's Role in each pipeline namespace: the apiserver lets the operator grant only what
  // it holds itself.
  for (const rule of PATRONI_RULES)
    for (const resource of rule.resources) need(`${rule.apiGroups[0]}/${resource}`, ...rule.verbs);
  // The operator's own Lease.
  need(RESOURCES.Lease, "get", "create", "update");
  // The broker Secret's labels (metadata only; controller/credentials.ts).
  need(RESOURCES.Secret, "get");
  // The control listener's ClusterRoleBinding is deleted with its pipeline (finalizer.ts); the
  // apiserver lets the operator bind `system:auth-delegator` only if it holds its rules.
  need(RESOURCES.ClusterRoleBinding, "delete");
  need("authentication.k8s.io/tokenreviews", "create");
  need("authorization.k8s.io/subjectaccessreviews", "create");
  return out;
}

test("the ClusterRole grants exactly what the operator's code uses", () => {
  const have = granted();
  const want = required();
  const show = (m: Map<string, Set<string>>) =>
    Object.fromEntries(
      [...m]
        .map(([k, v]) => [k, [...v].sort()])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  assert.deepEqual(show(have), show(want));
});

test("no wildcards, no cluster-scoped writes beyond the operator's kinds", () => {
  const text = readFileSync(new URL("./operator-rbac.yaml", import.meta.url), "utf8");
  assert.doesNotMatch(text, /"\*"|\[\*\]|- \*/);
  assert.doesNotMatch(text, /\b(escalate|bind|impersonate)\b/);
});
