/**
 * The chart rendered offline by the real helm: lint, the operator Deployment's shape, RBAC equal
 * to the operator's own manifest, the Prometheus Operator objects only where that API exists,
 * the dashboards, and values checked by values.schema.json.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { operatorClusterRoleRules, splitRules } from "../../scripts/chart-files.ts";
import { CHART, find, type Manifest, type OfflineHelm, offlineHelm, ROOT } from "./support.ts";

const MONITORING_API = ["--api-versions", "monitoring.coreos.com/v1"];

describe("charts/tradepipe-operator rendered by helm", () => {
  let helm: OfflineHelm;
  let defaults: Manifest[];
  before(async () => {
    helm = await offlineHelm();
    defaults = await helm.template();
  });
  after(() => helm?.close());

  it("passes helm lint --strict, with defaults and with a pipeline", async () => {
    const plain = await helm.run(["lint", "--strict", CHART]);
    assert.match(plain.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const full = await helm.run(["lint", "--strict", CHART, "--set", "pipeline.create=true"]);
    assert.match(full.stdout, /0 chart\(s\) failed/);
    assert.doesNotMatch(`${plain.stdout}${full.stdout}`, /\[(WARNING|ERROR|INFO)\]/);
  });

  it("runs the operator with two replicas, leader election and a Lease in its namespace", () => {
    const deploy = find(defaults, "Deployment");
    assert.ok(deploy, "no Deployment rendered");
    assert.equal(deploy.spec.replicas, 2);
    const c = deploy.spec.template.spec.containers[0];
    assert.equal(c.args[0], "operator");
    for (const flag of [
      "--lease-name=",
      "--lease-duration=",
      "--renew-deadline=",
      "--retry-period=",
    ]) {
      assert.ok(
        c.args.some((a: string) => a.startsWith(flag)),
        `missing ${flag}`,
      );
    }
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    assert.equal(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath, "metadata.namespace");
    assert.equal(env.POD_NAME.valueFrom.fieldRef.fieldPath, "metadata.name");
    assert.equal(deploy.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.ok(find(defaults, "PodDisruptionBudget"), "no PodDisruptionBudget with 2 replicas");
  });

  it("gives the operator Guaranteed resources, a restricted security context and probes", () => {
    const pod = find(defaults, "Deployment")!.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c.resources.requests, c.resources.limits, "requests must equal limits");
    assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(c.livenessProbe.httpGet.path, "/health");
    assert.equal(c.readinessProbe.httpGet.path, "/ready");
    assert.equal(c.ports[0].containerPort, 8080);
    assert.ok(c.args.includes("--health-port=8080"));
  });

  it("grants exactly the rules of operator/rbac/operator-rbac.yaml to the chart's ServiceAccount", async () => {
    const role = find(defaults, "ClusterRole");
    const binding = find(defaults, "ClusterRoleBinding");
    const sa = find(defaults, "ServiceAccount");
    assert.ok(role && binding && sa);
    assert.deepEqual(role.rules, await operatorClusterRoleRules());
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: sa.metadata.name, namespace: "tradepipe-system" },
    ]);
    assert.equal(
      find(defaults, "Deployment")!.spec.template.spec.serviceAccountName,
      sa.metadata.name,
    );
  });

  it("binds the operator in its one namespace when operator.watchNamespace is set", async () => {
    const scoped = await helm.template(["--set", "operator.watchNamespace=trading"]);
    const { namespaced, clusterScoped } = splitRules(await operatorClusterRoleRules());
    // Cluster-wide only what no Role can grant: the control listeners' auth-delegator bindings.
    const clusterRoles = scoped.filter((m) => m.kind === "ClusterRole");
    assert.equal(clusterRoles.length, 1);
    assert.deepEqual(clusterRoles[0].rules, clusterScoped);
    assert.deepEqual(
      clusterScoped.flatMap((r) => (r as { resources: string[] }).resources).sort(),
      ["clusterrolebindings", "subjectaccessreviews", "tokenreviews"],
    );
    const clusterBinding = find(scoped, "ClusterRoleBinding");
    assert.equal(clusterBinding?.roleRef.name, clusterRoles[0].metadata.name);
    const roles = scoped.filter((m) => m.kind === "Role");
    const main = roles.find((r) => r.metadata.namespace === "trading");
    assert.ok(main, "a Role in the watched namespace");
    assert.deepEqual(main.rules, namespaced);
    const binding = scoped.find(
      (m) => m.kind === "RoleBinding" && m.metadata.namespace === "trading",
    );
    assert.deepEqual(binding?.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: main.metadata.name,
    });
    const lease = roles.find((r) => r.metadata.namespace === "tradepipe-system");
    assert.deepEqual(lease?.rules, [
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["tradepipe-operator"],
        verbs: ["get", "update"],
      },
    ]);
    const args: string[] = find(scoped, "Deployment")!.spec.template.spec.containers[0].args;
    assert.ok(args.includes("--namespace=trading"));
  });

  it("ships a ValidatingAdmissionPolicy for pipelines, and passes the network settings", async () => {
    const policy = find(defaults, "ValidatingAdmissionPolicy");
    const binding = find(defaults, "ValidatingAdmissionPolicyBinding");
    assert.ok(policy && binding);
    assert.equal(binding.spec.policyName, policy.metadata.name);
    assert.deepEqual(binding.spec.validationActions, ["Deny"]);
    const vars = Object.fromEntries(
      policy.spec.variables.map((v: { name: string; expression: string }) => [
        v.name,
        v.expression,
      ]),
    );
    assert.deepEqual(JSON.parse(vars.brokerHosts), [
      "paper-api.alpaca.markets",
      "api.alpaca.markets",
      "stream.data.alpaca.markets",
      "data.alpaca.markets",
    ]);
    const off = await helm.template(["--set", "admission.enabled=false"]);
    assert.equal(find(off, "ValidatingAdmissionPolicy"), undefined);
    const args: string[] = find(
      await helm.template([
        "--set",
        "networkPolicy.monitoringNamespaceSelector.team=obs",
        "--set",
        "networkPolicy.clusterCidrs={10.0.0.0/8}",
      ]),
      "Deployment",
    )!.spec.template.spec.containers[0].args;
    assert.ok(
      args.includes(
        "--monitoring-namespace-selector=kubernetes.io/metadata.name=monitoring,team=obs",
      ),
      args.join(" "),
    );
    assert.ok(args.includes("--cluster-cidrs=10.0.0.0/8"));
  });

  it("ships the CRD of crds/ unchanged", async () => {
    const [chartCrd, repoCrd] = await Promise.all([
      readFile(`${CHART}/crds/tradepipe.io_tradingpipelines.yaml`, "utf8"),
      readFile(`${ROOT}crds/tradepipe.io_tradingpipelines.yaml`, "utf8"),
    ]);
    assert.ok(chartCrd === repoCrd, "chart CRD differs from crds/: run `npm run gen:chart`");
    const withCrds = await helm.template(["--include-crds"]);
    assert.deepEqual(find(withCrds, "CustomResourceDefinition"), parse(repoCrd));
  });

  it("creates ServiceMonitor, PodMonitor and PrometheusRule only where monitoring.coreos.com/v1 exists", async () => {
    for (const kind of ["ServiceMonitor", "PodMonitor", "PrometheusRule"]) {
      assert.equal(find(defaults, kind), undefined, `${kind} rendered without the API`);
    }
    const withApi = await helm.template(MONITORING_API);
    const sm = find(withApi, "ServiceMonitor");
    assert.ok(sm, "no ServiceMonitor");
    const svc = find(withApi, "Service")!;
    assert.deepEqual(sm.spec.selector.matchLabels, svc.spec.selector);
    assert.equal(sm.spec.endpoints[0].port, svc.spec.ports[0].name);
    const pm = find(withApi, "PodMonitor")!;
    assert.ok(
      pm.spec.podMetricsEndpoints.every((e: { relabelings: { replacement?: string }[] }) =>
        e.relabelings.some((r) => r.replacement === "tradepipe"),
      ),
      "stage targets must be scraped as job=tradepipe",
    );
    const rule = find(withApi, "PrometheusRule")!;
    const alerts = parse(
      await readFile(`${ROOT}monitoring/prometheus/rules/tradepipe-alerts.yml`, "utf8"),
    );
    assert.deepEqual(rule.spec, alerts);
    const off = await helm.template([
      ...MONITORING_API,
      "--set",
      "metrics.prometheusRule.enabled=false",
    ]);
    assert.equal(find(off, "PrometheusRule"), undefined);
  });

  it("ships every Grafana dashboard as a ConfigMap for the Grafana sidecar", async () => {
    const files = (await readdir(`${ROOT}monitoring/grafana/dashboards`)).filter((f) =>
      f.endsWith(".json"),
    );
    const maps = defaults.filter(
      (m) => m.kind === "ConfigMap" && m.metadata.labels?.grafana_dashboard === "1",
    );
    assert.equal(maps.length, files.length);
    for (const f of files) {
      const map = maps.find((m) => f in m.data);
      assert.ok(map, `no ConfigMap holds ${f}`);
      const source = await readFile(`${ROOT}monitoring/grafana/dashboards/${f}`, "utf8");
      assert.deepEqual(JSON.parse(map.data[f]), JSON.parse(source));
    }
  });

  it("renders a default TradingPipeline only when asked", async () => {
    assert.equal(find(defaults, "TradingPipeline"), undefined);
    const withPipeline = await helm.template([
      "--set",
      "pipeline.create=true",
      "--set",
      "pipeline.spec.symbols={AAPL,MSFT}",
    ]);
    const tp = find(withPipeline, "TradingPipeline");
    assert.ok(tp);
    assert.deepEqual(tp.spec.symbols, ["AAPL", "MSFT"]);
    assert.equal(tp.spec.broker.kind, "simulator");
  });

  it("refuses values the schema forbids, naming the field", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--set", "pipeline.spec.risk.maxOpenPositions=0"],
        /\/pipeline\/spec\/risk\/maxOpenPositions/,
      ],
      [["--set", "pipeline.spec.broker.kind=ib"], /\/pipeline\/spec\/broker\/kind/],
      [["--set", "replicas=3"], /replicas/],
      [["--set", "operator.logLevel=loud"], /\/operator\/logLevel/],
      [["--set", "image.pullPolicy=Sometimes"], /\/image\/pullPolicy/],
    ];
    for (const [args, where] of cases) {
      const r = await helm.run(["template", "tp", CHART, ...args], { check: false });
      assert.notEqual(r.exitCode, 0, `${args.join(" ")} was accepted`);
      assert.match(r.stderr, where);
    }
  });
});
