import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1PodTemplateSpec } from "@kubernetes/client-node";
import { parsePipeline, type TradingPipeline } from "../../services/core/spec/index.ts";
import { BUS_PORT } from "../../services/pipeline/endpoints.ts";
import {
  allowed,
  type NetworkPolicy,
  type PodView,
} from "../../test/operator/network-policy-eval.ts";
import { brokenPromises, networkPromises } from "../../test/operator/network-promises.ts";
import { buildDatabaseStatefulSet } from "../postgres/resources.ts";
import { buildNetworkPolicies, DEFAULT_NETWORK_SETTINGS } from "./network-policy.ts";
import { buildSimulatorDeployment } from "./simulator.ts";
import { CONTROL_PORT } from "./stage-pod.ts";
import { buildStageWorkload, buildStageWorkloads } from "./stage-workload.ts";

function pipeline(spec: Record<string, unknown> = {}): TradingPipeline {
  const r = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "alpha", namespace: "trading", uid: "uid-1" },
    spec,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.pipeline;
}

function podOf(name: string, namespace: string, template: V1PodTemplateSpec | undefined): PodView {
  return {
    name,
    namespace,
    labels: { ...(template?.metadata?.labels ?? {}) },
    ports: (template?.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).map((p) => ({
        containerPort: p.containerPort,
        ...(p.name ? { name: p.name } : {}),
        ...(p.protocol ? { protocol: p.protocol } : {}),
      })),
    ),
  };
}

const namespaces = new Map<string, Record<string, string>>([
  ["trading", { "kubernetes.io/metadata.name": "trading" }],
  ["elsewhere", { "kubernetes.io/metadata.name": "elsewhere" }],
  ["monitoring", { "kubernetes.io/metadata.name": "monitoring" }],
  ["kube-system", { "kubernetes.io/metadata.name": "kube-system" }],
  ["tradepipe-system", { "kubernetes.io/metadata.name": "tradepipe-system" }],
  ["ops", { "kubernetes.io/metadata.name": "ops", team: "ops" }],
]);

function podsOf(tp: TradingPipeline) {
  const stage = podOf("md", "trading", buildStageWorkload(tp, "market-data").spec?.template);
  return {
    stage,
    otherStage: podOf("sb", "trading", buildStageWorkload(tp, "signal-bridge").spec?.template),
    database: podOf("db", "trading", buildDatabaseStatefulSet(tp).spec?.template),
    simulator: podOf("sim", "trading", buildSimulatorDeployment(tp).spec?.template),
    foreignSameNamespace: {
      name: "intruder",
      namespace: "trading",
      labels: { "tradepipe.io/pipeline": "beta", "tradepipe.io/component": "stage" },
      ports: [{ containerPort: 8080 }],
    },
    foreignOtherNamespace: { ...stage, name: "look-alike", namespace: "elsewhere" },
    monitoring: { name: "prometheus", namespace: "monitoring", labels: { app: "prometheus" } },
    dns: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
    riskManager: podOf("rm", "trading", buildStageWorkload(tp, "risk-manager").spec?.template),
    operatorPod: { name: "operator", namespace: "tradepipe-system", labels: { app: "x" } },
  };
}

const asPolicies = (tp: TradingPipeline) =>
  buildNetworkPolicies(tp, DEFAULT_NETWORK_SETTINGS) as unknown as NetworkPolicy[];

test("the pipeline's NetworkPolicies keep every promise of the table", () => {
  const tp = pipeline();
  const connections = networkPromises(tp.spec.observability.metricsPort);
  assert.deepEqual(brokenPromises(asPolicies(tp), namespaces, podsOf(tp), connections), []);
  // Without the policies, every connection gets through: the table is not vacuous.
  const open = brokenPromises([], namespaces, podsOf(tp), connections);
  assert.equal(open.length, connections.filter((c) => !c.allowed).length);
});

test("the monitoring namespaces are the operator's setting", () => {
  const tp = pipeline();
  const policies = buildNetworkPolicies(tp, {
    ...DEFAULT_NETWORK_SETTINGS,
    monitoringNamespaceSelector: { team: "observability" },
  }) as unknown as NetworkPolicy[];
  const pods = podsOf(tp);
  const ns = new Map([...namespaces, ["monitoring", { team: "observability" }] as const]);
  const connections = networkPromises(tp.spec.observability.metricsPort);
  assert.deepEqual(brokenPromises(policies, ns, pods, connections), []);
  assert.notDeepEqual(brokenPromises(policies, namespaces, pods, connections), []);
});

test("alpaca: egress to the broker's ports outside the cluster ranges; no simulator policy", () => {
  const tp = pipeline({
    broker: {
      kind: "alpaca",
      credentialsSecretRef: { name: "keys" },
      dataUrl: "wss://stream.example.com:8443",
    },
  });
  const policies = buildNetworkPolicies(tp, {
    ...DEFAULT_NETWORK_SETTINGS,
    clusterCidrs: ["10.244.0.0/16", "10.96.0.0/12"],
  });
  assert.deepEqual(
    policies.map((p) => p.metadata.name),
    ["alpha-default-deny", "alpha-stages", "alpha-database", "alpha-control"],
  );
  const stages = policies.find((p) => p.metadata.name === "alpha-stages");
  const broker = stages?.spec.egress?.at(-1);
  assert.deepEqual(
    broker?.ports?.map((p) => p.port),
    [443, 8443],
  );
  assert.deepEqual(broker?.to?.[0]?.ipBlock, {
    cidr: "0.0.0.0/0",
    except: ["10.244.0.0/16", "10.96.0.0/12"],
  });
  assert.deepEqual(broker?.to?.[1]?.ipBlock, { cidr: "::/0" });
});

test("colocated: no bus port between pods; one metrics port per stage", () => {
  const tp = pipeline({ placement: { topology: "colocated" } });
  const stages = buildNetworkPolicies(tp).find((p) => p.metadata.name === "alpha-stages");
  const ingressPorts = stages?.spec.ingress?.flatMap((r) => r.ports?.map((p) => p.port) ?? []);
  const base = tp.spec.observability.metricsPort;
  assert.deepEqual(ingressPorts, [base, base + 1, base + 2, base + 3, base + 4]);
  assert.ok(!JSON.stringify(stages).includes(`"port":${BUS_PORT}`));
});

test("the control port: the operator's namespace and the configured namespaces, nobody else", () => {
  const tp = pipeline();
  const pods = podsOf(tp);
  const opsPod = { name: "ops", namespace: "ops", labels: {} };
  const control = (settings = DEFAULT_NETWORK_SETTINGS) =>
    buildNetworkPolicies(tp, settings) as unknown as NetworkPolicy[];
  const reach = (policies: NetworkPolicy[], from: PodView, to: PodView) =>
    allowed(policies, namespaces, from, to, CONTROL_PORT, "TCP");
  assert.equal(reach(control(), pods.operatorPod, pods.riskManager), true);
  assert.equal(reach(control(), opsPod, pods.riskManager), false);
  // Only the risk-manager listens: the other stages' pods are not opened.
  assert.equal(reach(control(), pods.operatorPod, pods.stage), false);
  const withOps = control({
    ...DEFAULT_NETWORK_SETTINGS,
    controlNamespaceSelector: { team: "ops" },
  });
  assert.equal(reach(withOps, opsPod, pods.riskManager), true);
  assert.equal(reach(withOps, pods.monitoring, pods.riskManager), false);
  // The operator in another namespace: that one, not the default.
  const moved = control({ ...DEFAULT_NETWORK_SETTINGS, operatorNamespace: "ops" });
  assert.equal(reach(moved, opsPod, pods.riskManager), true);
  assert.equal(reach(moved, pods.operatorPod, pods.riskManager), false);
});

test("colocated: the control port on the stages pod", () => {
  const tp = pipeline({ placement: { topology: "colocated" } });
  const pod = podOf("stages", "trading", buildStageWorkloads(tp)[0]?.spec?.template);
  const operatorPod = { name: "operator", namespace: "tradepipe-system", labels: {} };
  const policies = buildNetworkPolicies(tp) as unknown as NetworkPolicy[];
  assert.equal(allowed(policies, namespaces, operatorPod, pod, CONTROL_PORT, "TCP"), true);
  const monitoring = { name: "prometheus", namespace: "monitoring", labels: {} };
  assert.equal(allowed(policies, namespaces, monitoring, pod, CONTROL_PORT, "TCP"), false);
});
