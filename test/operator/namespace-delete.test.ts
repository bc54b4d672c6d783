/**
 * `kubectl delete namespace` with a pipeline whose execution-engine leader is alive and never
 * reports halted: the namespace controller deletes the stage Leases while the pipeline waits in
 * its finalizer. The operator's deletion path only patches Leases that exist (a terminating
 * namespace refuses new ones), so it reaches the finalizer after the halt timeout and the
 * namespace goes. Creating or applying a Lease on this path hung it forever.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createKubeClient, loadKubeConfig } from "../../services/core/kube/client.ts";
import { startStageLease } from "../../services/core/kube/stage-lease.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type OperatorProcess,
  samplePipeline,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "doomed";
let cluster: ControlPlane;
let operator: OperatorProcess;

describe("deleting a namespace with a live pipeline", { timeout: 400_000 }, () => {
  before(async () => {
    const started = await startClusterWithOperatorRbac();
    cluster = started.cluster;
    operator = startOperatorProcess(started.saKubeconfig, "operator-0", ["--halt-timeout", "4"]);
    await createNamespace(cluster, NS);
  });
  after(async () => {
    const code = await operator?.stop();
    if (code !== 0) process.stderr.write(operator.logs().slice(-4000));
    await cluster?.stop();
  });

  test("kubectl delete namespace completes while the execution-engine leader keeps running", async () => {
    await applyYaml(
      cluster,
      samplePipeline("gamma", NS, { database: { instances: 1, synchronous: false } }),
    );
    await waitFor("the execution-engine Lease", async () =>
      getJson(cluster, ["lease", "gamma-execution-engine", "-n", NS]),
    );
    // The execution stage's own ServiceAccount (the operator made it and its Role): one the test
    // made itself could not read the Lease.
    await waitFor("the stage's ServiceAccount", () =>
      getJson(cluster, ["serviceaccount", "gamma-execution-engine", "-n", NS]),
    );
    const stageKubeconfig = await cluster.createServiceAccountKubeconfig(
      NS,
      "gamma-execution-engine",
    );
    const client = await createKubeClient(loadKubeConfig(stageKubeconfig));
    let asked = false;
    // A live leader that never reports halted: the finalizer must give up after its timeout.
    const stage = startStageLease({
      client,
      namespace: NS,
      name: "gamma-execution-engine",
      identity: "gamma-execution-engine-0",
      onKillSwitch: (engaged) => {
        asked ||= engaged;
        return new Promise<void>(() => {});
      },
    });
    try {
      await waitFor("the stage leads", async () => {
        const lease = await getJson(cluster, ["lease", "gamma-execution-engine", "-n", NS]);
        return lease.spec?.holderIdentity === "gamma-execution-engine-0";
      });
      await cluster.kubectl(["delete", "namespace", NS, "--wait=false"]);
      await waitFor(
        "the namespace is gone",
        async () => {
          const r = await cluster.kubectl(["get", "namespace", NS], { check: false });
          return r.exitCode !== 0 && /NotFound/.test(r.stderr);
        },
        240_000,
        500,
      );
      // Until the namespace controller reaches the pipeline, ordinary reconciles may still try to
      // re-apply children it deleted (refused); what matters is that the deletion completes.
      assert.match(operator.logs(), /"leading: reconciling"/);
      process.stdout.write(`# the live stage was asked to halt before its Lease went: ${asked}\n`);
    } finally {
      await stage.stop();
    }
  });
});
