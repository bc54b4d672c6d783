/**
 * secrets: credentials the operator generates for a pipeline. IMPORTANT: each is created once
 * and never re-applied or read back (controller/steps.ts creates it only when missing; the
 * operator may create Secrets but not read them), or every reconcile would change the keys.
 * The builders are pure: the caller passes the generated material.
 */
import { randomBytes } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import { CURVE_FILES, type CurveKeyPair } from "../../services/core/bus/curve.ts";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import { busCurveSecretName, commonLabels, simulatorSecretName } from "../api/names.ts";
import { type Manifest, namespaceOf, ownerReference } from "./common.ts";

function secret(
  tp: TradingPipeline,
  name: string,
  component: "stages" | "simulator",
  stringData: Record<string, string>,
): V1Secret & Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: namespaceOf(tp),
      labels: commonLabels(tp.metadata.name, component),
      ownerReferences: [ownerReference(tp)],
    },
    type: "Opaque",
    stringData,
  };
}

/** buildBusCurveSecret: the pipeline's CURVE key pair for the ZeroMQ bus, as the stages read it. */
export function buildBusCurveSecret(tp: TradingPipeline, keys: CurveKeyPair): V1Secret & Manifest {
  return secret(tp, busCurveSecretName(tp.metadata.name), "stages", {
    [CURVE_FILES.publicKey]: keys.publicKey,
    [CURVE_FILES.secretKey]: keys.secretKey,
  });
}

/** SimulatorCredentials: the pipeline's own paper-broker keys and the admin API's token. */
export interface SimulatorCredentials {
  keyId: string;
  secretKey: string;
  adminToken: string;
}

export const SIMULATOR_SECRET_KEYS = {
  keyId: "APCA_API_KEY_ID",
  secretKey: "APCA_API_SECRET_KEY",
  adminToken: "admin-token",
} as const;

/** generateSimulatorCredentials: fresh random keys, shaped like Alpaca's. */
export function generateSimulatorCredentials(): SimulatorCredentials {
  return {
    keyId: `PK${randomBytes(12).toString("hex").toUpperCase().slice(0, 18)}`,
    secretKey: randomBytes(30).toString("base64url"),
    adminToken: randomBytes(32).toString("base64url"),
  };
}

/** buildSimulatorSecret: generated keys replace the published development keys in a cluster. */
export function buildSimulatorSecret(
  tp: TradingPipeline,
  credentials: SimulatorCredentials,
): V1Secret & Manifest {
  return secret(tp, simulatorSecretName(tp.metadata.name), "simulator", {
    [SIMULATOR_SECRET_KEYS.keyId]: credentials.keyId,
    [SIMULATOR_SECRET_KEYS.secretKey]: credentials.secretKey,
    [SIMULATOR_SECRET_KEYS.adminToken]: credentials.adminToken,
  });
}
