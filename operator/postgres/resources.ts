/**
 * resources: the pipeline's Postgres as Kubernetes objects — a credentials Secret, a
 * StatefulSet of `database.instances` pods (the official postgres image, run by agent.sh),
 * read-write and read-only Services that select pods by the role label the operator sets, and
 * PodDisruptionBudgets. Pure; the password comes from the caller.
 */
import { readFileSync } from "node:fs";
import type {
  V1ConfigMap,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import {
  commonLabels,
  databaseName,
  databaseSecretName,
  databaseServiceName,
  LABEL_COMPONENT,
  LABEL_DB_ROLE,
  LABEL_PIPELINE,
} from "../api/names.ts";
import {
  digest,
  guaranteed,
  type Manifest,
  namespaceOf,
  ownerReference,
  restrictedContainer,
  withDigest,
} from "../specs/common.ts";
import { spreadAndAffinity, tolerations } from "../specs/stage-pod.ts";

export const POSTGRES_PORT = 5432;
export const DB_USER = "tradepipe";
export const DB_NAME = "tradepipe";
/** POSTGRES_UID is the postgres user of the official image. */
export const POSTGRES_UID = 999;
export type DbRole = "primary" | "replica" | "fenced";

const AGENT = readFileSync(new URL("./agent.sh", import.meta.url), "utf8");

export function databaseSelector(pipeline: string): Record<string, string> {
  return { [LABEL_PIPELINE]: pipeline, [LABEL_COMPONENT]: "database" };
}

function meta(tp: TradingPipeline, name: string) {
  return {
    name,
    namespace: namespaceOf(tp),
    labels: commonLabels(tp.metadata.name, "database"),
    ownerReferences: [ownerReference(tp)],
  };
}

/** databaseUri is the database Secret's `uri`, which the stages read as a file (DATABASE_URL_FILE): always the read-write Service. */
export function databaseUri(tp: TradingPipeline, password: string): string {
  const host = `${databaseServiceName(tp.metadata.name, "rw")}.${namespaceOf(tp)}.svc`;
  return `postgres://${DB_USER}:${encodeURIComponent(password)}@${host}:${POSTGRES_PORT}/${DB_NAME}`;
}

/**
 * buildDatabaseSecret: IMPORTANT — created once and never re-applied, or every reconcile would
 * change the password (controller/steps.ts creates it only when missing).
 */
export function buildDatabaseSecret(tp: TradingPipeline, password: string): V1Secret & Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(tp, databaseSecretName(tp.metadata.name)),
    type: "kubernetes.io/basic-auth",
    stringData: {
      username: DB_USER,
      password,
      database: DB_NAME,
      uri: databaseUri(tp, password),
    },
  };
}

export function postgresqlConf(tp: TradingPipeline): string {
  const sync = tp.spec.database.synchronous && tp.spec.database.instances >= 2;
  return [
    "listen_addresses = '*'",
    `port = ${POSTGRES_PORT}`,
    "unix_socket_directories = '/var/run/postgresql'",
    "wal_level = replica",
    "hot_standby = on",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "wal_log_hints = on",
    "wal_keep_size = '512MB'",
    sync ? "synchronous_standby_names = 'ANY 1 (*)'" : "synchronous_standby_names = ''",
    "synchronous_commit = on",
    "",
  ].join("\n");
}

export function buildDatabaseConfig(tp: TradingPipeline): V1ConfigMap & Manifest {
  return withDigest({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(tp, `${databaseName(tp.metadata.name)}-config`),
    data: { "postgresql.conf": postgresqlConf(tp), "agent.sh": AGENT },
  });
}

export function buildDatabaseStatefulSet(tp: TradingPipeline): V1StatefulSet & Manifest {
  const pipeline = tp.metadata.name;
  const db = tp.spec.database;
  const name = databaseName(pipeline);
  const selector = databaseSelector(pipeline);
  const labels = { ...commonLabels(pipeline, "database"), ...selector };
  const secret = databaseSecretName(pipeline);
  const fromSecret = (key: string) => ({ secretKeyRef: { name: secret, key } });
  const security = { ...restrictedContainer(), runAsUser: POSTGRES_UID, runAsGroup: POSTGRES_UID };
  return withDigest({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { ...meta(tp, name), labels },
    spec: {
      replicas: db.instances,
      serviceName: name,
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "OnDelete" },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: { "tradepipe.io/config-hash": digest(postgresqlConf(tp) + AGENT) },
        },
        spec: {
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: POSTGRES_UID,
            runAsGroup: POSTGRES_UID,
            fsGroup: POSTGRES_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          nodeSelector: { ...tp.spec.placement.nodeSelector },
          tolerations: tolerations(tp),
          ...spreadAndAffinity(selector),
          containers: [
            {
              name: "postgres",
              image: db.image,
              command: ["bash", "/etc/tradepipe-db/agent.sh"],
              env: [
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                { name: "POSTGRES_USER", valueFrom: fromSecret("username") },
                { name: "POSTGRES_PASSWORD", valueFrom: fromSecret("password") },
                { name: "POSTGRES_DB", valueFrom: fromSecret("database") },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                {
                  name: "TRADEPIPE_DB_RW_HOST",
                  value: `${databaseServiceName(pipeline, "rw")}.${namespaceOf(tp)}.svc`,
                },
              ],
              ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
              resources: guaranteed(db.resources.cpu, db.resources.memory),
              readinessProbe: {
                exec: { command: ["pg_isready", "-h", "/var/run/postgresql", "-p", "5432"] },
                periodSeconds: 2,
                failureThreshold: 2,
              },
              livenessProbe: {
                tcpSocket: { port: "postgres" },
                periodSeconds: 10,
                failureThreshold: 6,
                initialDelaySeconds: 30,
              },
              securityContext: security,
              volumeMounts: [
                { name: "data", mountPath: "/var/lib/postgresql/data" },
                { name: "config", mountPath: "/etc/tradepipe-db", readOnly: true },
                { name: "podinfo", mountPath: "/etc/podinfo", readOnly: true },
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: `${name}-config` } },
            {
              name: "podinfo",
              downwardAPI: {
                items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }],
              },
            },
            { name: "run", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels: commonLabels(pipeline, "database") },
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: db.storage } },
            ...(db.storageClassName ? { storageClassName: db.storageClassName } : {}),
          },
        },
      ],
    },
  });
}

function service(
  tp: TradingPipeline,
  name: string,
  selector: Record<string, string>,
  headless = false,
): V1Service & Manifest {
  return withDigest({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(tp, name),
    spec: {
      type: "ClusterIP",
      ...(headless ? { clusterIP: "None", publishNotReadyAddresses: true } : {}),
      selector,
      ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }],
    },
  });
}

/** buildDatabaseServices: rw → the pod labelled primary, ro → replicas, plus the pods' headless one. */
export function buildDatabaseServices(tp: TradingPipeline): (V1Service & Manifest)[] {
  const pipeline = tp.metadata.name;
  const sel = databaseSelector(pipeline);
  return [
    service(tp, databaseServiceName(pipeline, "rw"), { ...sel, [LABEL_DB_ROLE]: "primary" }),
    service(tp, databaseServiceName(pipeline, "ro"), { ...sel, [LABEL_DB_ROLE]: "replica" }),
    service(tp, databaseName(pipeline), sel, true),
  ];
}

/**
 * buildDatabasePdbs: a drain never takes the primary (move it first with a switchover) and
 * never more than one database pod at a time.
 */
export function buildDatabasePdbs(tp: TradingPipeline): (V1PodDisruptionBudget & Manifest)[] {
  const pipeline = tp.metadata.name;
  const sel = databaseSelector(pipeline);
  const pdb = (name: string, spec: V1PodDisruptionBudget["spec"]) =>
    withDigest({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(tp, name),
      spec,
    });
  const out = [pdb(databaseName(pipeline), { maxUnavailable: 1, selector: { matchLabels: sel } })];
  if (tp.spec.database.instances >= 2) {
    out.push(
      pdb(`${databaseName(pipeline)}-primary`, {
        minAvailable: 1,
        selector: { matchLabels: { ...sel, [LABEL_DB_ROLE]: "primary" } },
      }),
    );
  }
  return out;
}
