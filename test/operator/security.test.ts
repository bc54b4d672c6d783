/**
 * The operator's security controls on a real control plane: the NetworkPolicies it writes keep
 * the network promise (read back from the apiserver and evaluated: the test control plane has no
 * network plugin to enforce them), each stage's ServiceAccount reaches only its own Lease, a
 * tampered child is repaired although its digest annotation is unchanged, and an object someone
 * else made is never taken over.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseAllDocuments, stringify } from "yaml";
import { CONTROL_PORT } from "../../operator/specs/stage-pod.ts";
import { CONTROL_AUDIENCE } from "../../services/core/control/kube-auth.ts";
import { startControlListener } from "../../services/pipeline/control-listener.ts";
import type { ControlPlane } from "../cluster/controlplane.ts";
import { startHarness } from "../pipeline/stage-harness.ts";
import type { NetworkPolicy, PodView } from "./network-policy-eval.ts";
import { brokenPromises, networkPromises, type PromisePods } from "./network-promises.ts";
import {
  applyYaml,
  createNamespace,
  getJson,
  type Json,
  OPERATOR_NAMESPACE,
  type OperatorProcess,
  ROOT,
  samplePipeline,
  startClusterWithOperatorRbac,
  startOperatorProcess,
  waitFor,
} from "./support.ts";

const NS = "trading";
let cluster: ControlPlane;
let operator: OperatorProcess;

function podView(pod: Json): PodView {
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace,
    labels: pod.metadata.labels ?? {},
    ip: pod.status?.podIP,
    ports: (pod.spec.containers as Json[]).flatMap((c) => c.ports ?? []),
  };
}

/** A plain pod somewhere (kwok runs it and gives it an address). */
async function runPod(namespace: string, name: string, labels: Record<string, string>) {
  await applyYaml(cluster, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: {
      containers: [{ name: "c", image: "example.com/any", ports: [{ containerPort: 8080 }] }],
    },
  });
}

async function runningPod(namespace: string, selector: string): Promise<Json> {
  return waitFor(`a pod ${selector} in ${namespace} with an address`, async () => {
    const items = (await getJson(cluster, ["pods", "-n", namespace, "-l", selector])).items;
    return items.find((p: Json) => p.status?.podIP);
  });
}

async function readyCondition(name: string): Promise<Json | undefined> {
  const tp = await getJson(cluster, ["tp", name, "-n", NS]);
  return tp.status?.conditions?.find((c: Json) => c.type === "Ready");
}

describe("security controls on a real control plane", { timeout: 600_000 }, () => {
  before(async () => {
    const started = await startClusterWithOperatorRbac();
    cluster = started.cluster;
    operator = startOperatorProcess(started.saKubeconfig, "operator-0");
    for (const ns of [NS, "elsewhere", "monitoring"]) await createNamespace(cluster, ns);
    await applyYaml(
      cluster,
      samplePipeline("alpha", NS, { database: { instances: 1, synchronous: false } }),
    );
  });
  after(async () => {
    const code = await operator?.stop();
    if (code !== 0) process.stderr.write(operator.logs().slice(-4000));
    await cluster?.stop();
  });

  test("NetworkPolicies on the apiserver: the bus, the database and the simulator only for the pipeline", async () => {
    const policies = await waitFor("the pipeline's NetworkPolicies", async () => {
      const items = (
        await getJson(cluster, ["networkpolicies", "-n", NS, "-l", "tradepipe.io/pipeline=alpha"])
      ).items as NetworkPolicy[];
      return items.length === 5 && items;
    });
    await runPod(NS, "intruder", {
      "tradepipe.io/pipeline": "beta",
      "tradepipe.io/component": "stage",
    });
    await runPod("elsewhere", "look-alike", {
      "tradepipe.io/pipeline": "alpha",
      "tradepipe.io/component": "stage",
      "tradepipe.io/stage": "market-data",
    });
    await runPod("monitoring", "prometheus", { app: "prometheus" });
    await runPod("kube-system", "coredns", { "k8s-app": "kube-dns" });
    await runPod(OPERATOR_NAMESPACE, "operator-pod", { app: "tradepipe-tools" });
    const pods: PromisePods = {
      stage: podView(await runningPod(NS, "tradepipe.io/stage=market-data")),
      otherStage: podView(await runningPod(NS, "tradepipe.io/stage=signal-bridge")),
      database: podView(await runningPod(NS, "tradepipe.io/component=database")),
      simulator: podView(await runningPod(NS, "tradepipe.io/component=simulator")),
      foreignSameNamespace: podView(await runningPod(NS, "tradepipe.io/pipeline=beta")),
      foreignOtherNamespace: podView(await runningPod("elsewhere", "tradepipe.io/pipeline")),
      monitoring: podView(await runningPod("monitoring", "app=prometheus")),
      dns: podView(await runningPod("kube-system", "k8s-app=kube-dns")),
      riskManager: podView(await runningPod(NS, "tradepipe.io/stage=risk-manager")),
      operatorPod: podView(await runningPod(OPERATOR_NAMESPACE, "app=tradepipe-tools")),
    };
    const namespaces = new Map<string, Record<string, string>>(
      (await getJson(cluster, ["namespaces"])).items.map((n: Json) => [
        n.metadata.name,
        n.metadata.labels ?? {},
      ]),
    );
    const tp = await getJson(cluster, ["tp", "alpha", "-n", NS]);
    const connections = networkPromises(tp.spec.observability.metricsPort);
    assert.deepEqual(brokenPromises(policies, namespaces, pods, connections), []);
    // The same pods without the policies: every forbidden connection would get through.
    assert.equal(
      brokenPromises([], namespaces, pods, connections).length,
      connections.filter((c) => !c.allowed).length,
    );
  });

  test("the risk-manager's control listener, as its pod runs it: only a token for the audience whose user may update the kill switch releases it, recorded as that user", async () => {
    // What the operator wrote: the listener's port and namespace on the risk-manager, and the
    // ClusterRoleBinding that lets its own ServiceAccount review tokens.
    const sts: Json = await waitFor("the risk-manager StatefulSet", () =>
      getJson(cluster, ["statefulset", "alpha-risk-manager", "-n", NS]),
    );
    const container = (sts.spec.template.spec.containers as Json[])[0]!;
    const podEnv: NodeJS.ProcessEnv = {};
    for (const e of container.env as Json[]) {
      if (e.value !== undefined) podEnv[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") podEnv[e.name] = NS;
    }
    assert.equal(podEnv.TRADEPIPE_CONTROL_PORT, String(CONTROL_PORT));
    assert.equal(podEnv.POD_NAMESPACE, NS);
    assert.ok(
      (container.ports as Json[]).some(
        (p) => p.name === "control" && p.containerPort === CONTROL_PORT,
      ),
    );
    const binding: Json = await waitFor("the control listener's ClusterRoleBinding", () =>
      getJson(cluster, ["clusterrolebinding", `tradepipe:${NS}:alpha:control-auth`]),
    );
    assert.equal(binding.roleRef.name, "system:auth-delegator");
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: "alpha-risk-manager", namespace: NS },
    ]);
    await cluster.kubectl(["apply", "-f", "-"], {
      input: `
apiVersion: v1
kind: ServiceAccount
metadata: {name: ops, namespace: ${NS}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: ${NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: alpha-killswitch, namespace: ${NS}}
rules:
  - apiGroups: [tradepipe.io]
    resources: [tradingpipelines/killswitch]
    resourceNames: [alpha]
    verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops-alpha-killswitch, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: alpha-killswitch}
subjects: [{kind: ServiceAccount, name: ops, namespace: ${NS}}]
`,
    });
    // The listener as the pod starts it: the pod's environment, the stage ServiceAccount's
    // token (the operator's ServiceAccount, bound by the operator's binding), the risk-manager's
    // real kill-switch routes over a real database. Locally on a free port instead of 8790.
    const kubeconfig = await cluster.createServiceAccountKubeconfig(NS, "alpha-risk-manager");
    const h = await startHarness({ sim: { symbols: { AAPL: 100 }, clock: "manual" } });
    const risk = await h.start("risk-manager");
    const env = {
      ...podEnv,
      TRADEPIPE_CONTROL_PORT: "0",
      TRADEPIPE_CONTROL_HOST: "127.0.0.1",
      TRADEPIPE_KUBECONFIG: kubeconfig,
    };
    const control = await startControlListener(env, "risk-manager", "alpha", h.controlRoutes);
    assert.ok(control);
    try {
      await h.db.pool.query("SELECT tp_set_kill_switch(true, 'halted for the test', 'cli:test')");
      const token = async (sa: string, audience?: string) => {
        const args = ["create", "token", sa, "-n", NS, "--duration", "10m"];
        if (audience) args.push("--audience", audience);
        return (await cluster.kubectl(args)).stdout.trim();
      };
      const ops = await token("ops", CONTROL_AUDIENCE);
      const post = (headers: Record<string, string>, body: string) =>
        fetch(`${control.address}/kill-switch`, { method: "POST", headers, body }).then(
          async (r) => ({ status: r.status, body: (await r.json()) as Json }),
        );
      const json = { "content-type": "application/json" };
      const release = JSON.stringify({ engaged: false, requestedBy: "someone-else" });
      // The attacks, each refused: no token; a token for the API server; a user without the
      // verb; a browser page of another origin with a good token; a form-like body.
      assert.equal((await post(json, release)).status, 401);
      const apiToken = await token("ops");
      assert.equal(
        (await post({ ...json, authorization: `Bearer ${apiToken}` }, release)).status,
        401,
      );
      const viewer = await token("viewer", CONTROL_AUDIENCE);
      const refused = await post({ ...json, authorization: `Bearer ${viewer}` }, release);
      assert.equal(refused.status, 403);
      assert.match(String(refused.body.error), /may not update tradingpipelines\/killswitch/);
      const origin = { ...json, authorization: `Bearer ${ops}`, origin: "https://evil.example" };
      assert.equal((await post(origin, release)).status, 403);
      const plain = { "content-type": "text/plain", authorization: `Bearer ${ops}` };
      assert.equal((await post(plain, release)).status, 415);
      const notJson = await post({ ...json, authorization: `Bearer ${ops}` }, "engaged=false");
      assert.equal(notJson.status, 400);
      const still = await h.db.pool.query("SELECT kill_switch_engaged FROM risk_state");
      assert.equal(still.rows[0].kill_switch_engaged, true, "nothing was released");

      const ok = await post({ ...json, authorization: `Bearer ${ops}` }, release);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const row = await h.db.pool.query(
        "SELECT kill_switch_engaged, kill_switch_changed_by FROM risk_state",
      );
      assert.deepEqual(row.rows[0], {
        kill_switch_engaged: false,
        kill_switch_changed_by: `kube:system:serviceaccount:${NS}:ops`,
      });
    } finally {
      await control.close();
      await risk.stop();
      await h.close();
    }
  });

  test("a stage's ServiceAccount patches its own Lease and no other stage's", async () => {
    await waitFor("the stage Leases", async () => {
      const leases = await getJson(cluster, [
        "leases",
        "-n",
        NS,
        "-l",
        "tradepipe.io/pipeline=alpha",
      ]);
      return leases.items.length === 5;
    });
    // The operator's own ServiceAccount (a test-made one would be someone else's).
    await waitFor("the stage's ServiceAccount", () =>
      getJson(cluster, ["serviceaccount", "alpha-execution-engine", "-n", NS]),
    );
    const kubeconfig = await cluster.createServiceAccountKubeconfig(NS, "alpha-execution-engine");
    const patch = (lease: string, annotation: string) =>
      cluster.kubectl(
        ["annotate", "lease", lease, "-n", NS, "--overwrite", `tradepipe.io/halted=${annotation}`],
        { kubeconfig, check: false },
      );
    const own = await patch("alpha-execution-engine", "1");
    assert.equal(own.exitCode, 0, own.stderr);
    // Forging another stage's halt acknowledgement, or stripping its kill-switch request.
    const forged = await patch("alpha-risk-manager", "1");
    assert.notEqual(forged.exitCode, 0);
    assert.match(forged.stderr, /forbidden/i);
    const strip = await cluster.kubectl(
      ["annotate", "lease", "alpha-risk-manager", "-n", NS, "tradepipe.io/kill-switch-"],
      { kubeconfig, check: false },
    );
    assert.match(strip.stderr, /forbidden/i);
    const list = await cluster.kubectl(["get", "leases", "-n", NS], { kubeconfig, check: false });
    assert.match(list.stderr, /forbidden/i);
  });

  test("a tampered child whose digest annotation is unchanged is repaired", async () => {
    const role: Json = await waitFor("the execution stage's Role", () =>
      getJson(cluster, ["role", "alpha-execution-engine", "-n", NS]),
    );
    const hash = role.metadata.annotations["tradepipe.io/desired-hash"];
    assert.deepEqual(role.rules[0].resourceNames, ["alpha-execution-engine"]);
    // Widen the Role to every Lease of the namespace, keeping the annotation.
    await cluster.kubectl([
      "patch",
      "role",
      "alpha-execution-engine",
      "-n",
      NS,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "remove", path: "/rules/0/resourceNames" }]),
    ]);
    // Open the bus to every pod, keeping the annotation.
    await cluster.kubectl([
      "patch",
      "networkpolicy",
      "alpha-stages",
      "-n",
      NS,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/spec/ingress/0/from", value: [] }]),
    ]);
    await waitFor("the Role repaired", async () => {
      const now = await getJson(cluster, ["role", "alpha-execution-engine", "-n", NS]);
      return (
        JSON.stringify(now.rules[0].resourceNames) === '["alpha-execution-engine"]' &&
        now.metadata.annotations["tradepipe.io/desired-hash"] === hash
      );
    });
    await waitFor("the NetworkPolicy repaired", async () => {
      const now = await getJson(cluster, ["networkpolicy", "alpha-stages", "-n", NS]);
      return now.spec.ingress[0].from?.length === 1;
    });
  });

  test("an object someone else made is not taken over: Ready=False, OwnershipConflict", async () => {
    // A squatting ConfigMap, and a planted bus-key Secret (keys its author would know).
    await cluster.kubectl([
      "create",
      "configmap",
      "gamma-config",
      "-n",
      NS,
      "--from-literal=owner=someone-else",
    ]);
    await cluster.kubectl([
      "create",
      "secret",
      "generic",
      "gamma-bus-curve",
      "-n",
      NS,
      "--from-literal=public-key=planted",
    ]);
    await applyYaml(
      cluster,
      samplePipeline("gamma", NS, { database: { instances: 1, synchronous: false } }),
    );
    const ready = await waitFor("gamma refused", async () => {
      const c = await readyCondition("gamma");
      return c?.reason === "OwnershipConflict" && c;
    });
    assert.equal(ready.status, "False");
    assert.match(
      ready.message,
      /ConfigMap trading\/gamma-config already existed, managed by kubectl-create|Secret trading\/gamma-bus-curve already existed, made by someone else/,
    );
    const cm = await getJson(cluster, ["configmap", "gamma-config", "-n", NS]);
    assert.deepEqual(cm.data, { owner: "someone-else" });
    assert.equal(cm.metadata.ownerReferences, undefined);
    assert.equal(cm.metadata.labels?.["tradepipe.io/pipeline"], undefined);
    // Once the squatter is gone, the operator makes its own ConfigMap; the planted Secret is
    // still refused, and no pod is created to use it.
    await cluster.kubectl(["delete", "configmap", "gamma-config", "-n", NS]);
    await waitFor("gamma's own ConfigMap", async () => {
      const own = await getJson(cluster, ["configmap", "gamma-config", "-n", NS]);
      return own.metadata.ownerReferences?.[0]?.name === "gamma";
    });
    const planted = await waitFor("the planted Secret refused", async () => {
      const c = await readyCondition("gamma");
      return c?.reason === "OwnershipConflict" && /gamma-bus-curve/.test(c.message) && c;
    });
    assert.match(
      planted.message,
      /Secret trading\/gamma-bus-curve already existed, made by someone else/,
    );
    const workloads = await getJson(cluster, [
      "statefulsets",
      "-n",
      NS,
      "-l",
      "tradepipe.io/pipeline=gamma",
    ]);
    assert.equal(workloads.items.length, 0, "no pod uses the planted keys");
  });

  test("a broker Secret not released with the opt-in label is refused: Ready=False, no pods", async () => {
    await cluster.kubectl([
      "create",
      "secret",
      "generic",
      "payroll",
      "-n",
      NS,
      "--from-literal=APCA_API_KEY_ID=not-a-broker-key",
      "--from-literal=APCA_API_SECRET_KEY=hunter2",
    ]);
    await applyYaml(
      cluster,
      samplePipeline("delta", NS, {
        broker: { kind: "alpaca", credentialsSecretRef: { name: "payroll" } },
        database: { instances: 1, synchronous: false },
      }),
    );
    const ready = await waitFor("delta refused", async () => {
      const c = await readyCondition("delta");
      return c?.reason === "CredentialsNotReleased" && c;
    });
    assert.match(
      ready.message,
      /Secret trading\/payroll .* not labelled tradepipe.io\/broker-credentials="true"/,
    );
    const workloads = await getJson(cluster, [
      "statefulsets",
      "-n",
      NS,
      "-l",
      "tradepipe.io/pipeline=delta",
    ]);
    assert.equal(workloads.items.length, 0, "no pod may mount the Secret");
    await cluster.kubectl([
      "label",
      "secret",
      "payroll",
      "-n",
      NS,
      "tradepipe.io/broker-credentials=true",
    ]);
    await waitFor(
      "delta's workloads once the Secret is released",
      async () => {
        const now = await getJson(cluster, [
          "statefulsets",
          "-n",
          NS,
          "-l",
          "tradepipe.io/pipeline=delta",
        ]);
        return now.items.length === 6;
      },
      150_000,
    );
  });

  test("the chart: RBAC bound in the watched namespace only; the admission policy refuses unsafe pipelines", async () => {
    const rendered = await cluster.helm([
      "template",
      "tp",
      `${ROOT}charts/tradepipe-operator`,
      "--namespace",
      "tradepipe-system",
      "--set",
      "operator.watchNamespace=scoped",
    ]);
    const wanted = new Set([
      "ServiceAccount",
      "Role",
      "RoleBinding",
      "ClusterRole",
      "ClusterRoleBinding",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ]);
    const docs = parseAllDocuments(rendered.stdout)
      .map((d) => d.toJS() as Json | null)
      .filter((d): d is Json => Boolean(d) && wanted.has(d?.kind));
    // Cluster-wide only what no Role can grant: the risk-managers' auth-delegator bindings.
    const clusterWide = docs.filter((d) => d.kind.startsWith("Cluster"));
    assert.deepEqual(
      clusterWide.map((d) => [d.kind, d.metadata.name]),
      [
        ["ClusterRole", "tp-tradepipe-operator-control-auth"],
        ["ClusterRoleBinding", "tp-tradepipe-operator-control-auth"],
      ],
    );
    assert.deepEqual((clusterWide[0]!.rules as Json[]).flatMap((r) => r.resources).sort(), [
      "clusterrolebindings",
      "subjectaccessreviews",
      "tokenreviews",
    ]);
    await createNamespace(cluster, "scoped");
    await cluster.kubectl(["apply", "-f", "-"], {
      input: docs.map((d) => stringify(d)).join("---\n"),
    });
    const as = ["--as", "system:serviceaccount:tradepipe-system:tp-tradepipe-operator"];
    const can = async (...args: string[]) =>
      (await cluster.kubectl(["auth", "can-i", ...args, ...as], { check: false })).stdout.trim();
    assert.equal(await can("create", "statefulsets", "-n", "scoped"), "yes");
    assert.equal(await can("create", "statefulsets", "-n", NS), "no");
    assert.equal(await can("create", "roles", "-n", "kube-system"), "no");
    assert.equal(await can("update", "leases/tradepipe-operator", "-n", "tradepipe-system"), "yes");
    assert.equal(await can("update", "leases/other", "-n", "tradepipe-system"), "no");
    // The ClusterRoleBindings it may write can grant no more than it holds: binding
    // cluster-admin to anyone is refused by the apiserver's escalation check.
    assert.equal(await can("create", "clusterrolebindings"), "yes");
    assert.equal(await can("create", "clusterroles"), "no");
    const escalate = await cluster.kubectl(
      [
        "create",
        "clusterrolebinding",
        "steal",
        "--clusterrole=cluster-admin",
        "--serviceaccount=scoped:default",
        "--dry-run=server",
        ...as,
      ],
      { check: false },
    );
    assert.notEqual(escalate.exitCode, 0);
    assert.match(escalate.stderr, /forbidden|escalat/i);

    const attempt = (spec: Record<string, unknown>) =>
      cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
        input: stringify(samplePipeline("eps", NS, spec)),
        check: false,
      });
    const alpaca = (broker: Record<string, unknown>) => ({
      broker: { kind: "alpaca", credentialsSecretRef: { name: "payroll" }, ...broker },
    });
    // The policy takes effect once the apiserver has loaded it.
    const plain = await waitFor("the policy refusing http", async () => {
      const r = await attempt(alpaca({ tradingUrl: "http://paper-api.alpaca.markets" }));
      return r.exitCode !== 0 && r;
    });
    assert.match(
      plain.stderr,
      /needs https:\/\/ trading and historical data URLs and a wss:\/\/ data URL/,
    );
    const host = await attempt(alpaca({ tradingUrl: "https://collector.example.com" }));
    assert.match(host.stderr, /allowed host .*got https:\/\/collector.example.com/);
    const image = await attempt({ image: "registry.example.com/miner:1" });
    assert.match(image.stderr, /allowed registry .*got registry.example.com\/miner:1/);
    const ok = await attempt(alpaca({}));
    assert.equal(ok.exitCode, 0, ok.stderr);
  });
});
