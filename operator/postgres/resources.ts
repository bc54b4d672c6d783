/**
 * resources: the pipeline's Postgres as Kubernetes objects — a credentials Secret, Patroni's
 * configuration, a StatefulSet of `database.instances` pods each running Postgres under Patroni
 * (Kubernetes as the DCS), the ServiceAccount and Role Patroni uses, read-write and read-only
 * Services that select pods by the role label Patroni sets, and PodDisruptionBudgets. Pure; the
 * passwords come from the caller.
 */
import type {
  V1ConfigMap,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from "@kubernetes/client-node";
import { stringify } from "yaml";
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
import {
  databaseTlsMount,
  databaseTlsVolume,
  patroniConnectAddress,
  withPatroniTls,
} from "../specs/database-tls.ts";
import { spreadAndAffinity, tolerations } from "../specs/stage-pod.ts";
import { ANNOTATION_CONFIG_HASH } from "../specs/stage-workload.ts";
import { dynamicConfig, PATRONI_USERS } from "./patroni-settings.ts";

export const POSTGRES_PORT = 5432;
/** PATRONI_PORT: Patroni's REST API (health, /switchover, /config). */
export const PATRONI_PORT = 8008;
export const DB_USER = "tradepipe";
export const DB_NAME = "tradepipe";
/** POSTGRES_UID is the postgres user of the official image (and of operator/postgres/Dockerfile). */
export const POSTGRES_UID = 999;
/** Values Patroni writes into LABEL_DB_ROLE (leader_label_value, follower_label_value). */
export type DbRole = "primary" | "replica";
/** LABEL_DB_CLUSTER carries Patroni's scope; Patroni finds its members by it. */
export const LABEL_DB_CLUSTER = "tradepipe.io/db-cluster";
const CONFIG_DIR = "/etc/patroni";
const PGDATA = "/var/lib/postgresql/data/pgdata";

export function databaseSelector(pipeline: string): Record<string, string> {
  return { [LABEL_PIPELINE]: pipeline, [LABEL_COMPONENT]: "database" };
}

/**
 * patroniConfigMapName holds patroni.yml. IMPORTANT: not `<scope>-config`, which is the name
 * Patroni gives its own dynamic-configuration ConfigMap (with `-leader`, `-sync`, `-failover`).
 */
export function patroniConfigMapName(pipeline: string): string {
  return `${databaseName(pipeline)}-patroni`;
}

/** patroniScope: the Patroni cluster's name, also the prefix of its ConfigMaps. */
export function patroniScope(pipeline: string): string {
  return databaseName(pipeline);
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
export interface DatabasePasswords {
  /** The stages' role (`tradepipe`). */
  app: string;
  superuser: string;
  replication: string;
  rewind: string;
}

export function buildDatabaseSecret(
  tp: TradingPipeline,
  passwords: DatabasePasswords,
): V1Secret & Manifest {
  const password = passwords.app;
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
      "superuser-password": passwords.superuser,
      "replication-password": passwords.replication,
      "rewind-password": passwords.rewind,
    },
  };
}

/**
 * POST_BOOTSTRAP runs once, on the member that initialises the cluster (Patroni passes a
 * superuser connection string): it creates the stages' role and database. Replicas clone them.
 * The role migrates the database (the stage pods' `migrate` init container), and
 * sql/0007_roles.sql creates the NOLOGIN group roles it then owns the schema through, so it
 * has CREATEROLE — never SUPERUSER. On Postgres 16 and later (the image's 17) CREATEROLE lets it
 * administer only the roles it created itself.
 */
export const POST_BOOTSTRAP = `#!/bin/sh
# Run by Patroni once, after initdb on the first member: the stages' role and database.
set -eu
psql -v ON_ERROR_STOP=1 -v user="$TRADEPIPE_DB_USER" -v pw="$TRADEPIPE_DB_PASSWORD" \\
  -v db="$TRADEPIPE_DB_NAME" "$1" <<'SQL'
CREATE ROLE :"user" LOGIN CREATEROLE PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user";
SQL
`;

/**
 * patroniConfig: Patroni's configuration for the pipeline's pods (Kubernetes DCS). What differs
 * per pod (name, pod IP, addresses, passwords) comes from the environment the StatefulSet sets.
 * ConfigMaps rather than Endpoints hold the leader key: the operator owns the Services, and rw
 * follows the role label Patroni writes on its own pod.
 */
export function patroniConfig(tp: TradingPipeline): Record<string, unknown> {
  const pipeline = tp.metadata.name;
  return withPatroniTls({
    scope: patroniScope(pipeline),
    kubernetes: {
      labels: { ...databaseSelector(pipeline) },
      scope_label: LABEL_DB_CLUSTER,
      role_label: LABEL_DB_ROLE,
      leader_label_value: "primary",
      follower_label_value: "replica",
      standby_leader_label_value: "primary",
      use_endpoints: false,
      ports: [{ name: "postgres", port: POSTGRES_PORT }],
    },
    restapi: { listen: `0.0.0.0:${PATRONI_PORT}` },
    bootstrap: {
      dcs: dynamicConfig(tp),
      initdb: [{ encoding: "UTF8" }, { locale: "C" }, "data-checksums"],
      post_bootstrap: `sh ${CONFIG_DIR}/post-bootstrap.sh`,
    },
    postgresql: {
      listen: `0.0.0.0:${POSTGRES_PORT}`,
      data_dir: PGDATA,
      pgpass: "/tmp/pgpass",
      authentication: {
        superuser: { username: PATRONI_USERS.superuser },
        replication: { username: PATRONI_USERS.replication },
        rewind: { username: PATRONI_USERS.rewind },
      },
      pg_hba: [
        "local all all scram-sha-256",
        `host replication ${PATRONI_USERS.replication} 0.0.0.0/0 scram-sha-256`,
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::/0 scram-sha-256",
      ],
      // IMPORTANT: never wipe a data directory on a failed rewind or a diverged timeline.
      remove_data_directory_on_rewind_failure: false,
      remove_data_directory_on_diverged_timelines: false,
      create_replica_methods: ["basebackup"],
      basebackup: [{ checkpoint: "fast" }],
      parameters: { unix_socket_directories: "/var/run/postgresql" },
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  });
}

export function buildDatabaseConfig(tp: TradingPipeline): V1ConfigMap & Manifest {
  return withDigest({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(tp, patroniConfigMapName(tp.metadata.name)),
    data: { "patroni.yml": stringify(patroniConfig(tp)), "post-bootstrap.sh": POST_BOOTSTRAP },
  });
}

/** The ServiceAccount Patroni runs as, and what its Role lets it do (Patroni's documented set). */
export const PATRONI_RULES = [
  {
    apiGroups: [""],
    resources: ["configmaps"],
    verbs: ["get", "list", "watch", "create", "patch", "update", "delete"],
  },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "patch", "update"] },
];

export function buildDatabaseRbac(
  tp: TradingPipeline,
): [V1ServiceAccount & Manifest, V1Role & Manifest, V1RoleBinding & Manifest] {
  const name = databaseName(tp.metadata.name);
  return [
    withDigest({ apiVersion: "v1", kind: "ServiceAccount", metadata: meta(tp, name) }),
    withDigest({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(tp, name),
      rules: PATRONI_RULES,
    }),
    withDigest({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(tp, name),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: namespaceOf(tp) }],
    }),
  ];
}

export function buildDatabaseStatefulSet(tp: TradingPipeline): V1StatefulSet & Manifest {
  const pipeline = tp.metadata.name;
  const db = tp.spec.database;
  const name = databaseName(pipeline);
  const selector = databaseSelector(pipeline);
  const labels = {
    ...commonLabels(pipeline, "database"),
    ...selector,
    [LABEL_DB_CLUSTER]: patroniScope(pipeline),
  };
  const secret = databaseSecretName(pipeline);
  const fromSecret = (key: string) => ({ secretKeyRef: { name: secret, key } });
  const field = (fieldPath: string) => ({ fieldRef: { fieldPath } });
  const security = { ...restrictedContainer(), runAsUser: POSTGRES_UID, runAsGroup: POSTGRES_UID };
  // The pod template (and so a rolling restart, controller/database-rollout.ts) changes only
  // with what Patroni reads at start. Not with bootstrap.dcs: the dynamic settings (synchronous
  // mode, timings, Postgres parameters) reach a running cluster through PATCH /config, which
  // Patroni applies by reload, or marks pending restart.
  const { bootstrap, ...atStart } = patroniConfig(tp) as { bootstrap: Record<string, unknown> };
  const { dcs: _dynamic, ...bootstrapOnce } = bootstrap;
  const config = stringify({ ...atStart, bootstrap: bootstrapOnce }) + POST_BOOTSTRAP;
  return withDigest({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { ...meta(tp, name), labels },
    spec: {
      replicas: db.instances,
      serviceName: name,
      podManagementPolicy: "Parallel",
      // Patroni restarts Postgres for configuration changes itself (PATCH /config); a pod is
      // replaced only when its template changes, one at a time, by the operator's rollout.
      updateStrategy: { type: "OnDelete" },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: { [ANNOTATION_CONFIG_HASH]: digest(config) },
        },
        spec: {
          enableServiceLinks: false,
          serviceAccountName: name,
          // Patroni talks to the apiserver (its DCS) with this pod's ServiceAccount token.
          automountServiceAccountToken: true,
          // Patroni stops Postgres and releases the leader key on SIGTERM: give it the time.
          terminationGracePeriodSeconds: 60,
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
              command: ["patroni", `${CONFIG_DIR}/patroni.yml`],
              env: [
                { name: "PATRONI_NAME", valueFrom: field("metadata.name") },
                { name: "PATRONI_KUBERNETES_NAMESPACE", valueFrom: field("metadata.namespace") },
                { name: "PATRONI_KUBERNETES_POD_IP", valueFrom: field("status.podIP") },
                {
                  name: "PATRONI_RESTAPI_CONNECT_ADDRESS",
                  value: `$(PATRONI_KUBERNETES_POD_IP):${PATRONI_PORT}`,
                },
                {
                  name: "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
                  value: patroniConnectAddress(tp, POSTGRES_PORT),
                },
                { name: "PATRONI_SUPERUSER_PASSWORD", valueFrom: fromSecret("superuser-password") },
                {
                  name: "PATRONI_REPLICATION_PASSWORD",
                  valueFrom: fromSecret("replication-password"),
                },
                { name: "PATRONI_REWIND_PASSWORD", valueFrom: fromSecret("rewind-password") },
                { name: "TRADEPIPE_DB_USER", valueFrom: fromSecret("username") },
                { name: "TRADEPIPE_DB_PASSWORD", valueFrom: fromSecret("password") },
                { name: "TRADEPIPE_DB_NAME", valueFrom: fromSecret("database") },
              ],
              ports: [
                { name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" },
                { name: "patroni", containerPort: PATRONI_PORT, protocol: "TCP" },
              ],
              resources: guaranteed(db.resources.cpu, db.resources.memory),
              // Patroni's own health: /readiness is 200 for a running leader or a streaming
              // replica; /liveness while Patroni's HA loop runs.
              readinessProbe: {
                httpGet: { path: "/readiness", port: "patroni" },
                periodSeconds: 2,
                failureThreshold: 2,
              },
              livenessProbe: {
                httpGet: { path: "/liveness", port: "patroni" },
                periodSeconds: 10,
                failureThreshold: 6,
                initialDelaySeconds: 30,
              },
              securityContext: security,
              volumeMounts: [
                { name: "data", mountPath: "/var/lib/postgresql/data" },
                { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
                databaseTlsMount,
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name: patroniConfigMapName(pipeline) } },
            { name: "run", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
            databaseTlsVolume(pipeline),
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

/**
 * buildDatabaseServices: rw → the pod Patroni labels primary (its leader), ro → the pods it
 * labels replica (running replicas), plus the pods' headless one.
 */
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
