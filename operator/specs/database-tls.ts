/**
 * database-tls: Postgres TLS on Kubernetes. The operator generates one CA and one server
 * certificate per pipeline into the Secret `<pipeline>-db-tls` (created once, like the other
 * generated Secrets), naming the database Services and the members' pod DNS names. The
 * database pods mount it (ssl on, pg_hba TLS only, Patroni's own connections verified); the
 * stage pods mount only its `ca.crt` and connect with `sslmode=verify-full` against it
 * (DATABASE_CA_FILE, services/core/db/url.ts). Builders are pure; generation is async (keys).
 */
import type { V1EnvVar, V1Secret, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import {
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAndCertificate,
} from "../../services/core/tls/certificates.ts";
import { commonLabels, databaseName, databaseServiceName } from "../api/names.ts";
import { type Manifest, namespaceOf, ownerReference } from "./common.ts";

/** Where a database pod mounts the Secret (tls.crt, tls.key, ca.crt). */
export const DATABASE_TLS_DIR = "/etc/tradepipe/database-tls";
/** Where a stage pod mounts the CA alone. */
export const DATABASE_CA_DIR = "/var/run/secrets/tradepipe/database-ca";
export const DATABASE_TLS_KEYS = { cert: "tls.crt", key: "tls.key", ca: "ca.crt" } as const;

export function databaseTlsSecretName(pipeline: string): string {
  return `${databaseName(pipeline)}-tls`;
}

/**
 * databaseTlsHosts: every name a client or a member dials — the rw, ro and headless Services
 * in each DNS form, each member's pod name under the headless Service (wildcard), and loopback
 * (Patroni's local connection).
 */
export function databaseTlsHosts(tp: TradingPipeline): string[] {
  const pipeline = tp.metadata.name;
  const ns = namespaceOf(tp);
  const services = [
    databaseServiceName(pipeline, "rw"),
    databaseServiceName(pipeline, "ro"),
    databaseName(pipeline),
  ];
  const forms = (name: string) => [
    name,
    `${name}.${ns}`,
    `${name}.${ns}.svc`,
    `${name}.${ns}.svc.cluster.local`,
  ];
  const headless = databaseName(pipeline);
  return [
    ...services.flatMap(forms),
    `*.${headless}.${ns}.svc`,
    `*.${headless}.${ns}.svc.cluster.local`,
    "localhost",
    "127.0.0.1",
    "::1",
  ];
}

/**
 * patroniConnectAddress: what a member advertises to the others (and so what a replica dials
 * and verifies): its pod's DNS name under the headless Service, which the certificate names,
 * rather than its pod IP, which no certificate made in advance can name.
 */
export function patroniConnectAddress(tp: TradingPipeline, port: number): string {
  return `$(PATRONI_NAME).${databaseName(tp.metadata.name)}.$(PATRONI_KUBERNETES_NAMESPACE).svc:${port}`;
}

export interface DatabaseTlsMaterial {
  ca: KeyAndCertificate;
  server: KeyAndCertificate;
}

/** generateDatabaseTls: a fresh CA and a server certificate for databaseTlsHosts(tp). */
export async function generateDatabaseTls(
  tp: TradingPipeline,
  now: Date,
): Promise<DatabaseTlsMaterial> {
  const ca = await createCertificateAuthority({
    commonName: `tradepipe ${namespaceOf(tp)}/${tp.metadata.name} database CA`,
    now,
  });
  const server = await issueServerCertificate(ca, { hosts: databaseTlsHosts(tp), now });
  return { ca, server };
}

/** databaseTlsSecretIdentity: the Secret's kind and metadata, known before any key is made. */
export function databaseTlsSecretIdentity(
  tp: TradingPipeline,
): Pick<Manifest, "kind" | "metadata"> {
  return {
    kind: "Secret",
    metadata: {
      name: databaseTlsSecretName(tp.metadata.name),
      namespace: namespaceOf(tp),
      labels: commonLabels(tp.metadata.name, "database"),
      ownerReferences: [ownerReference(tp)],
    },
  };
}

/**
 * buildDatabaseTlsSecret: IMPORTANT — created once and never re-applied or read back. The CA's
 * key is not kept: rotation is a new Secret (delete it; the operator makes a new CA and
 * certificate, and the pods pick them up when they restart).
 */
export function buildDatabaseTlsSecret(
  tp: TradingPipeline,
  material: DatabaseTlsMaterial,
): V1Secret & Manifest {
  return {
    apiVersion: "v1",
    ...databaseTlsSecretIdentity(tp),
    type: "kubernetes.io/tls",
    stringData: {
      [DATABASE_TLS_KEYS.cert]: material.server.certPem,
      [DATABASE_TLS_KEYS.key]: material.server.keyPem,
      [DATABASE_TLS_KEYS.ca]: material.ca.certPem,
    },
  };
}

/**
 * withPatroniTls turns a Patroni configuration TLS-only: ssl on with the mounted certificate;
 * every `host` rule of pg_hba becomes `hostssl`, after rules rejecting any connection without
 * TLS; Patroni's own connections (local checks, replication, pg_rewind, pg_basebackup) verify
 * the server against the pipeline's CA and its name.
 */
export function withPatroniTls(config: Record<string, unknown>): Record<string, unknown> {
  const pg = (config.postgresql ?? {}) as Record<string, unknown>;
  const hba = ((pg.pg_hba as string[] | undefined) ?? []).map((rule) =>
    rule.replace(/^host\s/, "hostssl "),
  );
  const local = hba.filter((rule) => rule.startsWith("local"));
  const network = hba.filter((rule) => !rule.startsWith("local"));
  const verified = {
    sslmode: "verify-full",
    sslrootcert: `${DATABASE_TLS_DIR}/${DATABASE_TLS_KEYS.ca}`,
  };
  const auth = (pg.authentication ?? {}) as Record<string, Record<string, unknown>>;
  return {
    ...config,
    postgresql: {
      ...pg,
      authentication: Object.fromEntries(
        Object.entries(auth).map(([role, a]) => [role, { ...a, ...verified }]),
      ),
      pg_hba: [
        ...local,
        "hostnossl all all 0.0.0.0/0 reject",
        "hostnossl all all ::/0 reject",
        "hostnossl replication all 0.0.0.0/0 reject",
        "hostnossl replication all ::/0 reject",
        ...network,
      ],
      parameters: {
        ...((pg.parameters ?? {}) as Record<string, unknown>),
        ssl: "on",
        ssl_cert_file: `${DATABASE_TLS_DIR}/${DATABASE_TLS_KEYS.cert}`,
        ssl_key_file: `${DATABASE_TLS_DIR}/${DATABASE_TLS_KEYS.key}`,
        ssl_min_protocol_version: "TLSv1.2",
      },
    },
  };
}

/**
 * databaseTlsVolume: the whole Secret for a database pod. Files are root's with the pod's
 * fsGroup and mode 0640, which Postgres accepts for a key owned by root.
 */
export function databaseTlsVolume(pipeline: string): V1Volume {
  return {
    name: "database-tls",
    secret: { secretName: databaseTlsSecretName(pipeline), defaultMode: 0o640 },
  };
}

export const databaseTlsMount: V1VolumeMount = {
  name: "database-tls",
  mountPath: DATABASE_TLS_DIR,
  readOnly: true,
};

/** stageDatabaseCaVolume: the CA alone, for stage pods (they never see the server's key). */
export function stageDatabaseCaVolume(pipeline: string): V1Volume {
  return {
    name: "database-ca",
    secret: {
      secretName: databaseTlsSecretName(pipeline),
      defaultMode: 0o444,
      items: [{ key: DATABASE_TLS_KEYS.ca, path: DATABASE_TLS_KEYS.ca }],
    },
  };
}

export const stageDatabaseCaMount: V1VolumeMount = {
  name: "database-ca",
  mountPath: DATABASE_CA_DIR,
  readOnly: true,
};

/** stageDatabaseCaEnv: the stage verifies the database against this CA (verify-full). */
export const stageDatabaseCaEnv: V1EnvVar = {
  name: "DATABASE_CA_FILE",
  value: `${DATABASE_CA_DIR}/${DATABASE_TLS_KEYS.ca}`,
};
