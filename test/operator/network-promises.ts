/**
 * network-promises: what a pipeline's NetworkPolicies promise, as a table of connections that
 * must and must not get through. Checked against the builders' output (operator/specs) and
 * against the policies the operator wrote to a real apiserver (security.test.ts).
 */
import { POSTGRES_PORT } from "../../operator/postgres/resources.ts";
import { SIMULATOR_PORT } from "../../operator/specs/simulator.ts";
import { CONTROL_PORT } from "../../operator/specs/stage-pod.ts";
import { BUS_PORT } from "../../services/pipeline/endpoints.ts";
import {
  allowed,
  type NamespaceLabels,
  type NetworkPolicy,
  type PodView,
} from "./network-policy-eval.ts";

export interface PromisePods {
  /** Two stage pods of the pipeline (distributed: different stages). */
  stage: PodView;
  otherStage: PodView;
  database: PodView;
  simulator: PodView;
  /** A pod of another pipeline in the same namespace. */
  foreignSameNamespace: PodView;
  /** A pod in another namespace that copies the pipeline's stage labels. */
  foreignOtherNamespace: PodView;
  /** A pod in the monitoring namespace. */
  monitoring: PodView;
  /** The cluster DNS (kube-system). */
  dns: PodView;
  /** The pipeline's risk-manager (its control listener: the kill switch). */
  riskManager: PodView;
  /** A pod in the operator's namespace (tradepipe-system). */
  operatorPod: PodView;
}

export interface Connection {
  from: keyof PromisePods;
  to: keyof PromisePods;
  port: number;
  protocol?: string;
  allowed: boolean;
  why: string;
}

/** networkPromises: the table for a distributed pipeline whose stages serve metrics on `metrics`. */
export function networkPromises(metrics: number): Connection[] {
  const bus = BUS_PORT;
  const postgres = POSTGRES_PORT;
  const simulator = SIMULATOR_PORT;
  return [
    {
      from: "otherStage",
      to: "stage",
      port: bus,
      allowed: true,
      why: "stages subscribe to each other",
    },
    {
      from: "foreignSameNamespace",
      to: "stage",
      port: bus,
      allowed: false,
      why: "another pipeline's pod reads the bus",
    },
    {
      from: "foreignOtherNamespace",
      to: "stage",
      port: bus,
      allowed: false,
      why: "a look-alike pod in another namespace reads the bus",
    },
    { from: "monitoring", to: "stage", port: bus, allowed: false, why: "monitoring reads the bus" },
    {
      from: "simulator",
      to: "stage",
      port: bus,
      allowed: false,
      why: "the simulator reads the bus",
    },
    {
      from: "monitoring",
      to: "stage",
      port: metrics,
      allowed: true,
      why: "Prometheus scrapes a stage",
    },
    {
      from: "foreignSameNamespace",
      to: "stage",
      port: metrics,
      allowed: false,
      why: "a foreign pod scrapes a stage",
    },
    {
      from: "foreignOtherNamespace",
      to: "stage",
      port: metrics,
      allowed: false,
      why: "a pod outside monitoring scrapes a stage",
    },
    {
      from: "stage",
      to: "database",
      port: postgres,
      allowed: true,
      why: "a stage uses its database",
    },
    {
      from: "otherStage",
      to: "database",
      port: postgres,
      allowed: true,
      why: "every stage uses the database",
    },
    {
      from: "database",
      to: "database",
      port: postgres,
      allowed: true,
      why: "replication between members",
    },
    {
      from: "foreignSameNamespace",
      to: "database",
      port: postgres,
      allowed: false,
      why: "another pipeline's pod reaches the database",
    },
    {
      from: "foreignOtherNamespace",
      to: "database",
      port: postgres,
      allowed: false,
      why: "a pod of another namespace reaches the database",
    },
    {
      from: "simulator",
      to: "database",
      port: postgres,
      allowed: false,
      why: "the simulator reaches the database",
    },
    {
      from: "monitoring",
      to: "database",
      port: postgres,
      allowed: false,
      why: "monitoring reaches the database",
    },
    {
      from: "stage",
      to: "simulator",
      port: simulator,
      allowed: true,
      why: "a stage trades with the simulator",
    },
    {
      from: "foreignSameNamespace",
      to: "simulator",
      port: simulator,
      allowed: false,
      why: "a foreign pod drives the simulator",
    },
    {
      from: "database",
      to: "simulator",
      port: simulator,
      allowed: false,
      why: "the database reaches the simulator",
    },
    {
      from: "operatorPod",
      to: "riskManager",
      port: CONTROL_PORT,
      allowed: true,
      why: "the operator's namespace reaches the kill switch",
    },
    {
      from: "foreignSameNamespace",
      to: "riskManager",
      port: CONTROL_PORT,
      allowed: false,
      why: "another pipeline's pod reaches the kill switch",
    },
    {
      from: "foreignOtherNamespace",
      to: "riskManager",
      port: CONTROL_PORT,
      allowed: false,
      why: "a look-alike pod in another namespace reaches the kill switch",
    },
    {
      from: "monitoring",
      to: "riskManager",
      port: CONTROL_PORT,
      allowed: false,
      why: "monitoring reaches the kill switch",
    },
    {
      from: "otherStage",
      to: "riskManager",
      port: CONTROL_PORT,
      allowed: false,
      why: "another stage reaches the kill switch",
    },
    {
      from: "stage",
      to: "dns",
      port: 53,
      protocol: "UDP",
      allowed: true,
      why: "stages resolve names",
    },
    {
      from: "stage",
      to: "foreignSameNamespace",
      port: 8080,
      allowed: false,
      why: "a stage connects to an arbitrary pod",
    },
    {
      from: "simulator",
      to: "foreignOtherNamespace",
      port: 8080,
      allowed: false,
      why: "the simulator connects out",
    },
  ];
}

/** brokenPromises lists each connection whose outcome differs from the promise. */
export function brokenPromises(
  policies: readonly NetworkPolicy[],
  namespaces: NamespaceLabels,
  pods: PromisePods,
  connections: readonly Connection[],
): string[] {
  return connections
    .filter(
      (c) =>
        allowed(policies, namespaces, pods[c.from], pods[c.to], c.port, c.protocol ?? "TCP") !==
        c.allowed,
    )
    .map(
      (c) =>
        `${c.allowed ? "blocked" : "let through"}: ${c.why} (${c.from} → ${c.to}:${c.port}/${c.protocol ?? "TCP"})`,
    );
}
