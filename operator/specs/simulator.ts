/**
 * simulator: for `broker.kind: simulator`, the built-in Alpaca-compatible paper broker runs as
 * one pod beside the stages (`tradepipe sim`), reached through a Service. Pure.
 */
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import {
  commonLabels,
  LABEL_COMPONENT,
  LABEL_PIPELINE,
  simulatorName,
  simulatorSecretName,
} from "../api/names.ts";
import {
  guaranteed,
  type Manifest,
  namespaceOf,
  ownerReference,
  restrictedContainer,
  restrictedPod,
  withDigest,
} from "./common.ts";
import { SIMULATOR_SECRET_KEYS } from "./secrets.ts";

export const SIMULATOR_PORT = 8730;
/** SIMULATOR_SECRET_DIR: the generated keys and admin token (the pipeline's own Secret). */
export const SIMULATOR_SECRET_DIR = "/var/run/secrets/tradepipe/simulator";

function selector(pipeline: string) {
  return { [LABEL_PIPELINE]: pipeline, [LABEL_COMPONENT]: "simulator" };
}

export function buildSimulatorDeployment(tp: TradingPipeline): V1Deployment & Manifest {
  const name = tp.metadata.name;
  const sim = tp.spec.broker.simulator;
  const labels = commonLabels(name, "simulator");
  return withDigest({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: simulatorName(name),
      namespace: namespaceOf(tp),
      labels,
      ownerReferences: [ownerReference(tp)],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector(name) },
      template: {
        metadata: { labels },
        spec: {
          enableServiceLinks: false,
          // The simulator never talks to the apiserver: no token to steal from it.
          automountServiceAccountToken: false,
          securityContext: restrictedPod(),
          nodeSelector: { ...tp.spec.placement.nodeSelector },
          tolerations: tp.spec.placement.tolerations.map((t) => ({ ...t })),
          containers: [
            {
              name: "simulator",
              image: tp.spec.image,
              args: [
                "sim",
                "--host=0.0.0.0",
                `--port=${SIMULATOR_PORT}`,
                `--seed=${sim.seed}`,
                `--speed=${sim.speed}`,
                `--keys-dir=${SIMULATOR_SECRET_DIR}`,
                `--admin-token-file=${SIMULATOR_SECRET_DIR}/${SIMULATOR_SECRET_KEYS.adminToken}`,
              ],
              ports: [{ name: "http", containerPort: SIMULATOR_PORT, protocol: "TCP" }],
              resources: guaranteed(1, "512Mi"),
              readinessProbe: { tcpSocket: { port: "http" }, periodSeconds: 2 },
              livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 5 },
              securityContext: restrictedContainer(),
              volumeMounts: [
                { name: "credentials", mountPath: SIMULATOR_SECRET_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            {
              name: "credentials",
              secret: { secretName: simulatorSecretName(name), defaultMode: 0o440 },
            },
          ],
        },
      },
    },
  });
}

export function buildSimulatorService(tp: TradingPipeline): V1Service & Manifest {
  const name = tp.metadata.name;
  return withDigest({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: simulatorName(name),
      namespace: namespaceOf(tp),
      labels: commonLabels(name, "simulator"),
      ownerReferences: [ownerReference(tp)],
    },
    spec: {
      type: "ClusterIP",
      selector: selector(name),
      ports: [{ name: "http", port: SIMULATOR_PORT, targetPort: "http", protocol: "TCP" }],
    },
  });
}
