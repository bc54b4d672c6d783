/**
 * The operator against a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok), run as its own process with its own ServiceAccount's token, so every
 * missing permission in operator/rbac/ would fail here.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ANNOTATION_HALTED, ANNOTATION_KILL_SWITCH } from "../../operator/api/names.ts";
import { createKubeClient, loadKubeConfig } from "../../services/core/kube/client.ts";
import { startStageLease } from "../../services/core/kube/stage-lease.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type Json,
  type OperatorProcess,
  samplePipeline,
  standInForPatroni,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "trading";
let cluster: ControlPlane;
let operator: OperatorProcess;
let stopPatroniStandIn: (() => Promise<void>) | undefined;

async function pipeline(name: string): Promise<Json> {
  return getJson(cluster, ["tp", name, "-n", NS]);
}

async function waitReady(name: string): Promise<Json> {
  return waitFor(`${name} Ready at its current generation`, async () => {
    const tp = await pipeline(name);
    const ready = tp.status?.conditions?.find((c: Json) => c.type === "Ready");
    return (
      ready?.status === "True" && tp.status.observedGeneration === tp.metadata.generation && tp
    );
  });
}

async function pods(selector: string): Promise<Json[]> {
  return (await getJson(cluster, ["pods", "-n", NS, "-l", selector])).items;
}

describe("the operator on a real control plane", { timeout: 600_000 }, () => {
  before(async () => {
    const started = await startClusterWithOperatorRbac();
    cluster = started.cluster;
    operator = startOperatorProcess(started.saKubeconfig, "operator-0", ["--halt-timeout", "4"]);
    await createNamespace(cluster, NS);
    // No Patroni runs under kwok: stand in for it (test/operator/patroni-k8s.test.ts runs real ones).
    stopPatroniStandIn = await standInForPatroni(cluster, NS);
  });
  after(async () => {
    await stopPatroniStandIn?.();
    const code = await operator?.stop();
    if (code !== 0) process.stderr.write(operator.logs().slice(-4000));
    await cluster?.stop();
  });

  test("kubectl apply of a TradingPipeline → workloads on the trading nodes, Guaranteed, Ready", async () => {
    await applyYaml(cluster, samplePipeline("alpha", NS));
    const tp = await waitReady("alpha");
    assert.equal(tp.status.phase, "Running");
    assert.equal(tp.status.trading, true);
    assert.equal(tp.status.primary, "alpha-db-0");
    assert.deepEqual(tp.status.conditions.map((c: Json) => c.type).sort(), [
      "DatabaseReady",
      "KillSwitch",
      "Ready",
      "StagesReady",
      "Trading",
    ]);
    for (const c of tp.status.conditions) {
      assert.equal(c.observedGeneration, tp.metadata.generation, c.type);
      assert.match(c.lastTransitionTime, /Z$/);
      assert.ok(c.reason && typeof c.message === "string", c.type);
    }
    assert.ok(tp.metadata.finalizers.includes("tradepipe.io/finalizer"));

    const sts = await getJson(cluster, ["statefulsets", "-n", NS, "--show-managed-fields"]);
    assert.deepEqual(sts.items.map((s: Json) => s.metadata.name).sort(), [
      "alpha-db",
      "alpha-execution-engine",
      "alpha-market-data",
      "alpha-position-tracker",
      "alpha-risk-manager",
      "alpha-signal-bridge",
    ]);
    for (const s of sts.items) {
      assert.equal(s.metadata.ownerReferences[0].uid, tp.metadata.uid, s.metadata.name);
      const appliers = s.metadata.managedFields
        .filter((f: Json) => f.operation === "Apply")
        .map((f: Json) => f.manager);
      assert.deepEqual(appliers, ["tradepipe-operator"], "one field manager applies");
    }
    // Ready needs the primary and each stage's leader, not every standby: wait until all are placed.
    const all = await waitFor("every pod scheduled", async () => {
      const list = await pods("tradepipe.io/pipeline=alpha");
      return list.length === 5 * 2 + 2 + 1 && list.every((p: Json) => p.spec.nodeName) && list;
    });
    assert.equal(all.length, 5 * 2 + 2 + 1, "10 stage pods, 2 database pods, 1 simulator");
    const nodes = await getJson(cluster, ["nodes"]);
    const trading = new Set(
      nodes.items
        .filter((n: Json) => n.metadata.labels["tradepipe.io/node-role"] === "trading")
        .map((n: Json) => n.metadata.name),
    );
    for (const p of all) {
      assert.ok(trading.has(p.spec.nodeName), `${p.metadata.name} on ${p.spec.nodeName}`);
      assert.equal(p.status.qosClass, "Guaranteed", p.metadata.name);
    }
    for (const stage of ["market-data", "execution-engine"]) {
      const replicas = all.filter((p) => p.metadata.labels["tradepipe.io/stage"] === stage);
      assert.equal(new Set(replicas.map((p) => p.spec.nodeName)).size, 2, `${stage} spread`);
    }
    const rw = await getJson(cluster, [
      "endpointslices",
      "-n",
      NS,
      "-l",
      "kubernetes.io/service-name=alpha-db-rw",
    ]);
    const rwPods = rw.items
      .flatMap((s: Json) => s.endpoints ?? [])
      .map((e: Json) => e.targetRef.name);
    assert.deepEqual(rwPods, ["alpha-db-0"]);
  });

  test("kubectl get tp shows the printer columns; kubectl explain documents spec.risk", async () => {
    const get = await cluster.kubectl(["get", "tp", "-n", NS]);
    const [header, row] = get.stdout.trim().split("\n");
    assert.match(header ?? "", /^NAME\s+PHASE\s+TRADING\s+PRIMARY\s+AGE$/);
    assert.match(row ?? "", /^alpha\s+Running\s+true\s+alpha-db-0\s+\S+$/);
    const wide = await cluster.kubectl(["get", "tp", "-n", NS, "-o", "wide"]);
    assert.match(wide.stdout, /KILL SWITCH/);
    const explain = await cluster.kubectl(["explain", "tradingpipeline.spec.risk"]);
    assert.match(explain.stdout, /maxDailyLoss/);
    assert.match(explain.stdout, /Pre-trade risk limits/);
    assert.match(explain.stdout, /circuitBreaker/);
  });

  test("the apiserver refuses invalid TradingPipelines with clear messages", async () => {
    const cases: [string, Json, RegExp][] = [
      [
        "negative limit",
        { risk: { maxPositionShares: -5 } },
        /spec\.risk\.maxPositionShares.*should be greater than or equal to 1/,
      ],
      [
        "fractional CPU",
        { stages: { riskManager: { resources: { cpu: 1.5 } } } },
        /spec\.stages\.riskManager\.resources\.cpu.*integer/,
      ],
      ["unknown field", { risk: { maxLeverage: 3 } }, /unknown field "spec\.risk\.maxLeverage"/],
      ["money as a number", { risk: { maxDailyLoss: 5000 } }, /spec\.risk\.maxDailyLoss.*string/],
    ];
    for (const [what, spec, message] of cases) {
      const r = await applyYaml(cluster, samplePipeline("bad", NS, spec), [
        "--validate=strict",
      ]).then(
        () => undefined,
        (err: Error) => err.message,
      );
      assert.ok(r, `${what} was accepted`);
      assert.match(r ?? "", message, what);
    }
    const list = await getJson(cluster, ["tp", "-n", NS]);
    assert.deepEqual(
      list.items.map((t: Json) => t.metadata.name),
      ["alpha"],
    );
  });

  test("a spec change rolls out: every stage pod is replaced, the status follows the generation", async () => {
    const before = await pods("tradepipe.io/component=stage,tradepipe.io/pipeline=alpha");
    const oldUids = new Set(before.map((p) => p.metadata.uid));
    await cluster.kubectl([
      "patch",
      "tp",
      "alpha",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"risk":{"maxOpenPositions":7}}}',
    ]);
    const tp = await waitFor(
      "every stage pod replaced",
      async () => {
        const now = await pods("tradepipe.io/component=stage,tradepipe.io/pipeline=alpha");
        const replaced =
          now.length === 10 &&
          now.every((p) => !oldUids.has(p.metadata.uid) && p.status.phase === "Running");
        return replaced && (await waitReady("alpha"));
      },
      120_000,
    );
    assert.equal(tp.metadata.generation, 2);
    const cm = await getJson(cluster, ["configmap", "alpha-config", "-n", NS]);
    assert.match(cm.data["pipeline.yaml"], /maxOpenPositions: 7/);
    const events = await cluster.kubectl([
      "get",
      "events",
      "-n",
      NS,
      "--field-selector",
      "involvedObject.name=alpha",
    ]);
    assert.match(events.stdout, /RollingStage/);
  });

  test("spec.killSwitch marks the stage Leases engaged and reports the pipeline Halted and not trading, until cleared", async () => {
    await cluster.kubectl([
      "patch",
      "tp",
      "alpha",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"killSwitch":true}}',
    ]);
    const tp = await waitFor("phase Halted", async () => {
      const t = await pipeline("alpha");
      return (
        t.status?.phase === "Halted" && t.status.observedGeneration === t.metadata.generation && t
      );
    });
    assert.equal(tp.status.trading, false);
    const ks = tp.status.conditions.find((c: Json) => c.type === "KillSwitch");
    assert.equal(ks.status, "True");
    assert.equal(ks.reason, "EngagedBySpec");
    const lease = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]);
    assert.equal(lease.metadata.annotations[ANNOTATION_KILL_SWITCH], "engaged");
    await cluster.kubectl([
      "patch",
      "tp",
      "alpha",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"killSwitch":false}}',
    ]);
    await waitFor("trading again", async () => (await pipeline("alpha")).status?.trading === true);
    const released = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]);
    assert.equal(released.metadata.annotations?.[ANNOTATION_KILL_SWITCH], undefined);
  });

  test("deleting a pipeline halts the execution stage first, then its children go", async () => {
    // The active execution-engine instance, with the stage's own ServiceAccount and the same
    // Lease module a stage in a pod uses.
    const stageKubeconfig = await cluster.createServiceAccountKubeconfig(
      NS,
      "alpha-execution-engine",
    );
    const client = await createKubeClient(loadKubeConfig(stageKubeconfig));
    const halts: boolean[] = [];
    const stage = startStageLease({
      client,
      namespace: NS,
      name: "alpha-execution-engine",
      identity: "alpha-execution-engine-0",
      onKillSwitch: async (engaged) => {
        halts.push(engaged);
      },
    });
    try {
      await waitFor("the stage leads", async () => {
        const lease = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]);
        return lease.spec?.holderIdentity === "alpha-execution-engine-0";
      });
      await waitFor("status shows the leader", async () => {
        const st = (await pipeline("alpha")).status?.stages?.find(
          (s: Json) => s.name === "executionEngine",
        );
        return st?.leader === "alpha-execution-engine-0" && st.epoch >= 1;
      });
      // The control listener's ClusterRoleBinding: cluster-scoped, so no garbage collection.
      const binding = `clusterrolebinding/tradepipe:${NS}:alpha:control-auth`;
      await waitFor("the control listener's binding", () => getJson(cluster, [binding]));
      await cluster.kubectl(["delete", "tp", "alpha", "-n", NS, "--wait=false"]);
      const deleting = await pipeline("alpha");
      assert.ok(deleting.metadata.deletionTimestamp, "held by the finalizer");
      await waitFor("the pipeline is gone", async () => {
        const r = await cluster.kubectl(["get", "tp", "alpha", "-n", NS], { check: false });
        return r.exitCode !== 0 && /NotFound/.test(r.stderr);
      });
      assert.deepEqual(halts, [true], "the stage was asked to halt once");
      const gone = await cluster.kubectl(["get", binding], { check: false });
      assert.match(gone.stderr, /NotFound/, "the operator deleted the binding with the pipeline");
      const lease = await getJson(cluster, ["lease", "alpha-execution-engine", "-n", NS]).catch(
        () => undefined,
      );
      if (lease)
        assert.equal(lease.metadata.annotations?.[ANNOTATION_HALTED], String(stage.elector.epoch));
      const events = await cluster.kubectl([
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        "involvedObject.name=alpha",
      ]);
      assert.match(events.stdout, /Halted.*reported halted/);
      await waitFor(
        "children garbage-collected",
        async () => {
          const left = await getJson(cluster, [
            "statefulsets,services,configmaps,leases",
            "-n",
            NS,
            "-l",
            "tradepipe.io/pipeline=alpha",
          ]);
          return left.items.length === 0;
        },
        60_000,
      );
    } finally {
      await stage.stop();
      await client.close();
    }
  });

  test("a stage that never reports halted holds the deletion only until the halt timeout", async () => {
    await applyYaml(
      cluster,
      samplePipeline("beta", NS, { database: { instances: 1, synchronous: false } }),
    );
    await waitReady("beta");
    const stageKubeconfig = await cluster.createServiceAccountKubeconfig(
      NS,
      "beta-execution-engine",
    );
    const client = await createKubeClient(loadKubeConfig(stageKubeconfig));
    const stage = startStageLease({
      client,
      namespace: NS,
      name: "beta-execution-engine",
      identity: "beta-execution-engine-0",
      onKillSwitch: () => new Promise(() => {}), // stuck: never halts
    });
    try {
      await waitFor("the stage leads", async () => stage.elector.isLeader);
      await cluster.kubectl(["delete", "tp", "beta", "-n", NS, "--wait=false"]);
      await waitFor(
        "the pipeline is gone",
        async () => {
          const r = await cluster.kubectl(["get", "tp", "beta", "-n", NS], { check: false });
          return r.exitCode !== 0;
        },
        30_000,
      );
      const events = await cluster.kubectl([
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        "involvedObject.name=beta",
      ]);
      assert.match(events.stdout, /HaltTimeout/);
    } finally {
      await stage.stop();
      await client.close();
    }
  });

  test("colocated topology: one pod per replica with all five stages, Guaranteed", async () => {
    await applyYaml(
      cluster,
      samplePipeline("gamma", NS, {
        placement: { ...samplePipeline("x", NS).spec.placement, topology: "colocated" },
      }),
    );
    await waitReady("gamma");
    const stagePods = await pods("tradepipe.io/pipeline=gamma,tradepipe.io/stage=all");
    assert.equal(stagePods.length, 2);
    for (const p of stagePods) {
      assert.deepEqual(
        p.spec.containers.map((c: Json) => c.name),
        ["market-data", "signal-bridge", "risk-manager", "execution-engine", "position-tracker"],
      );
      assert.equal(p.status.qosClass, "Guaranteed");
    }
    const svc = await getJson(cluster, [
      "services",
      "-n",
      NS,
      "-l",
      "tradepipe.io/pipeline=gamma,tradepipe.io/component=stage",
    ]);
    assert.equal(svc.items.length, 0, "no bus Services: the stages talk over ipc://");
  });

  test("the operator rides out an apiserver restart", async () => {
    await cluster.restartApiServer({ downtimeMs: 3000 });
    await applyYaml(
      cluster,
      samplePipeline("epsilon", NS, { database: { instances: 1, synchronous: false } }),
    );
    const tp = await waitReady("epsilon");
    assert.equal(tp.status.phase, "Running");
    await cluster.kubectl([
      "patch",
      "tp",
      "epsilon",
      "-n",
      NS,
      "--type=merge",
      "-p",
      '{"spec":{"killSwitch":true}}',
    ]);
    await waitFor(
      "epsilon halted after the restart",
      async () => (await pipeline("epsilon")).status?.phase === "Halted",
    );
  });
});
