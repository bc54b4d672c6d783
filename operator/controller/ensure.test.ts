import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../kube/apply.ts";
import type { Manifest } from "../specs/common.ts";
import type { ReconcileContext } from "./context.ts";
import { drifted, ensureCreatedWith, keyOf } from "./ensure.ts";

const manifest = (kind: string, annotations: Record<string, string> = {}): Manifest => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name: "a",
    namespace: "n",
    labels: { "tradepipe.io/pipeline": "a" },
    annotations: { "tradepipe.io/desired-hash": "h1", ...annotations },
    ownerReferences: [],
  },
});

const observed = (kind: string, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name: "a",
    namespace: "n",
    uid: "u1",
    resourceVersion: "10",
    generation: 2,
    labels: { "tradepipe.io/pipeline": "a" },
    annotations: { "tradepipe.io/desired-hash": "h1" },
    ...extra,
  },
});

test("an object is intact only at a version the operator's own apply produced", () => {
  const record = { uid: "u1", versions: ["r9", "r10"] };
  assert.equal(drifted(manifest("Role"), observed("Role"), record), false);
  // Someone else wrote it: a resourceVersion the operator never saw, same digest annotation.
  assert.equal(
    drifted(manifest("Role"), observed("Role", { resourceVersion: "11" }), record),
    true,
  );
  // Recreated under the same name: another uid.
  assert.equal(drifted(manifest("Role"), observed("Role", { uid: "u2" }), record), true);
  // Nothing recorded (the operator restarted): applied once more.
  assert.equal(drifted(manifest("Role"), observed("Role"), undefined), true);
});

test("workloads compare generations: status writes by their controllers are not drift", () => {
  const record = { uid: "u1", versions: ["g2"] };
  const sts = observed("StatefulSet", { resourceVersion: "99" });
  assert.equal(drifted(manifest("StatefulSet"), sts, record), false);
  assert.equal(
    drifted(
      manifest("StatefulSet"),
      { ...sts, metadata: { ...sts.metadata, generation: 3 } },
      record,
    ),
    true,
  );
});

test("Leases compare the operator's own fields: a stripped kill-switch request is drift", () => {
  const want = manifest("Lease", { "tradepipe.io/kill-switch": "engaged" });
  const renewed = observed("Lease", {
    resourceVersion: "500",
    annotations: {
      "tradepipe.io/desired-hash": "h1",
      "tradepipe.io/kill-switch": "engaged",
      "tradepipe.io/fencing-epoch": "3",
    },
  });
  assert.equal(drifted(want, renewed, undefined), false);
  const stripped = observed("Lease", { resourceVersion: "501" });
  assert.equal(drifted(want, stripped, undefined), true);
});

test("a cluster-scoped object is recorded under the key its manifest looks it up by", () => {
  // The builder says namespace "" (cluster-scoped paths); the API's answer has no namespace.
  // Different keys would leave the operator without a record, re-applying it at every pass.
  const built = { kind: "ClusterRoleBinding", metadata: { name: "b", namespace: "" } };
  const answered = { kind: "ClusterRoleBinding", metadata: { name: "b" } };
  assert.equal(keyOf(built), keyOf(answered));
  assert.notEqual(keyOf({ kind: "Role", metadata: { name: "b", namespace: "n" } }), keyOf(built));
});

test("costly generated material is not made again once its Secret is known to exist", async () => {
  const identity = {
    kind: "Secret",
    metadata: {
      name: "alpha-db-tls",
      namespace: "n",
      labels: {},
      ownerReferences: [
        { apiVersion: "v1", kind: "TradingPipeline", name: "alpha", uid: "u1", controller: true },
      ],
    },
  };
  const ctx = { created: new Set(["Secret/n/alpha-db-tls/u1"]) } as unknown as ReconcileContext;
  let built = 0;
  const created = await ensureCreatedWith(ctx, identity, async () => {
    built += 1;
    throw new Error("must not build: the Secret exists");
  });
  assert.equal(created, false);
  assert.equal(built, 0);
});
