/**
 * The chart against a real control plane (test/cluster): every rendered object is accepted by
 * `kubectl apply --dry-run=server`; helm install, upgrade and uninstall work; the operator run
 * with the chart's ServiceAccount token reconciles a sample TradingPipeline.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../cluster/controlplane.ts";
import { PROMTOOL, run } from "../monitoring/support.ts";
import {
  applyYaml,
  getJson,
  type OperatorProcess,
  samplePipeline,
  startOperatorProcess,
  waitFor,
} from "../operator/support.ts";
import { CHART, parseManifests, ROOT } from "./support.ts";

const NS = "tradepipe-system";
const RELEASE = "tp";
const FULLNAME = "tp-tradepipe-operator";
const MONITORING_CRDS = `${ROOT}test/helm/fixtures/prometheus-operator-crds.yaml`;

describe("charts/tradepipe-operator on a real apiserver", () => {
  let cluster: ControlPlane;
  let operator: OperatorProcess | undefined;
  before(async () => {
    cluster = await startControlPlane();
    // The operator's pods must pass the restricted Pod Security Standard.
    await applyYaml(cluster, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: NS,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
  });
  after(async () => {
    await operator?.stop();
    await cluster?.stop();
  });

  it("helm template | kubectl apply --dry-run=server accepts every object", async () => {
    const rendered = await cluster.helm([
      "template",
      RELEASE,
      CHART,
      "--namespace",
      NS,
      "--include-crds",
      "--set",
      "pipeline.create=true",
      "--api-versions",
      "monitoring.coreos.com/v1",
    ]);
    const manifests = parseManifests(rendered.stdout);
    const crds = manifests.filter((m) => m.kind === "CustomResourceDefinition");
    const rest = manifests.filter((m) => m.kind !== "CustomResourceDefinition");
    // Custom resources can be dry-run only once their CRDs are established.
    await cluster.kubectl(["apply", "--server-side", "-f", "-"], {
      input: crds.map((c) => stringify(c)).join("---\n"),
    });
    await cluster.kubectl(["apply", "-f", MONITORING_CRDS]);
    await cluster.kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
    const r = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: rest.map((m) => stringify(m)).join("---\n"),
    });
    const accepted = r.stdout.trim().split("\n");
    assert.equal(accepted.length, rest.length, r.stdout);
    for (const kind of [
      "deployment.apps",
      "clusterrole.rbac",
      "serviceaccount",
      "servicemonitor.monitoring.coreos.com",
      "podmonitor.monitoring.coreos.com",
      "prometheusrule.monitoring.coreos.com",
      "tradingpipeline.tradepipe.io",
      "configmap",
    ]) {
      assert.ok(
        accepted.some((l) => l.startsWith(kind)),
        `${kind} not in:\n${r.stdout}`,
      );
    }
    assert.doesNotMatch(r.stderr, /PodSecurity|Warning/, r.stderr);
    // Back to a cluster without the Prometheus Operator for the install.
    await cluster.kubectl(["delete", "-f", MONITORING_CRDS, "--wait=true"]);
  });

  it("helm install: the operator runs with two ready replicas; NOTES say what to do next", async () => {
    const r = await cluster.helm([
      "install",
      RELEASE,
      CHART,
      "--namespace",
      NS,
      "--wait",
      "--timeout",
      "90s",
    ]);
    assert.match(r.stdout, /STATUS: deployed/);
    assert.match(r.stdout, /kubectl apply -f -/);
    assert.match(r.stdout, /kind: TradingPipeline/);
    assert.match(r.stdout, /monitoring\.coreos\.com\/v1\) is not in this cluster/);
    const deploy = await getJson(cluster, ["deployment", FULLNAME, "-n", NS]);
    assert.equal(deploy.status.readyReplicas, 2);
    const pods = await getJson(cluster, [
      "pods",
      "-n",
      NS,
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
    ]);
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) assert.equal(pod.status.qosClass, "Guaranteed");
    const monitors = await cluster.kubectl(["api-resources", "--api-group=monitoring.coreos.com"]);
    assert.doesNotMatch(monitors.stdout, /servicemonitors/);
  });

  it("helm upgrade: new values roll out, and monitoring objects appear once the API exists", async () => {
    await cluster.kubectl(["apply", "-f", MONITORING_CRDS]);
    await cluster.kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=30s"]);
    const r = await cluster.helm([
      "upgrade",
      RELEASE,
      CHART,
      "--namespace",
      NS,
      "--set",
      "operator.workers=2",
      "--set",
      "replicaCount=3",
      "--wait",
      "--timeout",
      "90s",
    ]);
    assert.match(r.stdout, /REVISION: 2/);
    const deploy = await getJson(cluster, ["deployment", FULLNAME, "-n", NS]);
    assert.equal(deploy.spec.replicas, 3);
    assert.ok(deploy.spec.template.spec.containers[0].args.includes("--workers=2"));
    for (const kind of ["servicemonitor", "podmonitor", "prometheusrule"]) {
      const got = await getJson(cluster, [kind, "-n", NS]);
      assert.equal(got.items.length, 1, `${kind} after the upgrade`);
    }
    const rule = await getJson(cluster, ["prometheusrule", FULLNAME, "-n", NS]);
    const alerts = rule.spec.groups.flatMap((g: { rules: { alert: string }[] }) =>
      g.rules.map((x) => x.alert),
    );
    assert.ok(alerts.includes("TradepipeKillSwitchEngaged"));
  });

  it("the operator, run with the chart's ServiceAccount token, reconciles a TradingPipeline", async () => {
    const kubeconfig = await cluster.createServiceAccountKubeconfig(NS, FULLNAME);
    operator = startOperatorProcess(kubeconfig, "chart-test-0", [
      "--lease-name",
      "tradepipe-operator",
      "--halt-timeout",
      "2",
    ]);
    await cluster.kubectl(["create", "namespace", "trading"]);
    await applyYaml(cluster, samplePipeline("paper", "trading", { symbols: ["AAPL", "MSFT"] }));
    const selector = "tradepipe.io/pipeline=paper";
    try {
      const stages = await waitFor(
        "the pipeline's stage StatefulSets",
        async () => {
          const sts = await getJson(cluster, [
            "statefulsets",
            "-n",
            "trading",
            "-l",
            `${selector},tradepipe.io/component=stage`,
          ]);
          return sts.items.length === 5 ? sts.items : undefined;
        },
        120_000,
        500,
      );
      assert.equal(stages.length, 5);
      // One identity per stage, each allowed only its own Lease.
      const sa = await getJson(cluster, ["serviceaccounts", "-n", "trading", "-l", selector]);
      assert.equal(sa.items.length, 6, "one per stage and Patroni's");
      const tp = await getJson(cluster, ["tp", "paper", "-n", "trading"]);
      const types = (tp.status?.conditions ?? []).map((c: { type: string }) => c.type);
      for (const t of ["Ready", "DatabaseReady", "StagesReady"])
        assert.ok(types.includes(t), `condition ${t} in ${types}`);
      const lease = await getJson(cluster, ["lease", "tradepipe-operator", "-n", NS]);
      assert.equal(lease.spec.holderIdentity, "chart-test-0");
    } catch (err) {
      process.stderr.write(`operator log:\n${operator.logs().slice(-4000)}\n`);
      throw err;
    }
    // What the ServiceMonitor scrapes: the leader says so, and promtool finds no naming problem.
    const health = /"health":"(http:\/\/[^"]+)"/.exec(operator.logs())?.[1];
    assert.ok(health, "no health URL in the operator's log");
    const exposition = await (await fetch(`${health}/metrics`)).text();
    assert.match(exposition, /^tradepipe_operator_leader(\{[^}]*\})? 1$/m);
    const check = await run(PROMTOOL, ["check", "metrics"], exposition);
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    // Forbidden requests would mean the chart's RBAC lacks a rule the operator uses.
    assert.doesNotMatch(operator.logs(), /forbidden/i);
    assert.equal(await operator.stop(), 0);
    operator = undefined;
  });

  it("helm uninstall removes the release's objects and keeps the CRD", async () => {
    await cluster.helm(["uninstall", RELEASE, "--namespace", NS, "--wait", "--timeout", "60s"]);
    const left = await cluster.kubectl([
      "get",
      "deployment,serviceaccount,service,poddisruptionbudget,configmap,servicemonitor,podmonitor,prometheusrule",
      "-n",
      NS,
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
      "-o",
      "name",
    ]);
    assert.equal(left.stdout.trim(), "");
    const cluster_ = await cluster.kubectl([
      "get",
      "clusterrole,clusterrolebinding",
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
      "-o",
      "name",
    ]);
    assert.equal(cluster_.stdout.trim(), "");
    await cluster.kubectl(["get", "crd", "tradingpipelines.tradepipe.io"]);
  });
});
