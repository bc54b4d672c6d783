import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import type { V1PodSpec, V1StatefulSet } from "@kubernetes/client-node";
import { parse } from "yaml";
import { parsePipeline, type TradingPipeline } from "../../services/core/spec/index.ts";
import { buildDatabaseConfig, buildDatabaseStatefulSet } from "../postgres/resources.ts";
import {
  buildDatabaseTlsSecret,
  DATABASE_CA_DIR,
  DATABASE_TLS_DIR,
  databaseTlsSecretName,
  generateDatabaseTls,
} from "./database-tls.ts";
import { buildStageWorkloads } from "./stage-workload.ts";

function pipeline(spec: Record<string, unknown> = {}): TradingPipeline {
  const r = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "alpha", namespace: "trading", uid: "uid-1", generation: 3 },
    spec: { broker: { kind: "simulator" }, ...spec },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.pipeline;
}

const podSpec = (sts: V1StatefulSet) => sts.spec?.template.spec as V1PodSpec;

test("the generated certificate names the Services and pods clients dial, from the pipeline's own CA", async () => {
  const tp = pipeline();
  const material = await generateDatabaseTls(tp, new Date());
  const secret = buildDatabaseTlsSecret(tp, material);
  assert.equal(secret.metadata.name, "alpha-db-tls");
  assert.equal(secret.type, "kubernetes.io/tls");
  const data = secret.stringData as Record<string, string>;
  assert.deepEqual(Object.keys(data).sort(), ["ca.crt", "tls.crt", "tls.key"]);
  assert.ok(!JSON.stringify(data).includes(material.ca.keyPem), "the CA key is not kept");
  const cert = new X509Certificate(data["tls.crt"] as string);
  assert.ok(cert.verify(new X509Certificate(data["ca.crt"] as string).publicKey));
  for (const host of [
    "alpha-db-rw.trading.svc",
    "alpha-db-rw.trading.svc.cluster.local",
    "alpha-db-ro.trading.svc",
    "alpha-db-0.alpha-db.trading.svc",
    "localhost",
  ]) {
    assert.ok(cert.checkHost(host, { subject: "never" }), host);
  }
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  // Another pipeline's (or namespace's) database is not named.
  assert.equal(cert.checkHost("beta-db-rw.trading.svc", { subject: "never" }), undefined);
  assert.equal(cert.checkHost("alpha-db-rw.other.svc", { subject: "never" }), undefined);
});

test("Patroni runs TLS only and its own connections verify the server", () => {
  const tp = pipeline();
  const yml = parse(buildDatabaseConfig(tp).data?.["patroni.yml"] as string);
  const pg = yml.postgresql;
  assert.equal(pg.parameters.ssl, "on");
  assert.equal(pg.parameters.ssl_cert_file, `${DATABASE_TLS_DIR}/tls.crt`);
  assert.equal(pg.parameters.ssl_key_file, `${DATABASE_TLS_DIR}/tls.key`);
  const hba = pg.pg_hba as string[];
  assert.ok(!hba.some((r) => /^host\s/.test(r)), `no rule admits a connection without TLS: ${hba}`);
  const firstNetwork = hba.findIndex((r) => !r.startsWith("local"));
  assert.match(hba[firstNetwork] ?? "", /^hostnossl all all 0\.0\.0\.0\/0 reject$/);
  assert.ok(hba.some((r) => /^hostssl replication /.test(r)));
  for (const role of ["superuser", "replication", "rewind"]) {
    assert.equal(pg.authentication[role].sslmode, "verify-full", role);
    assert.equal(pg.authentication[role].sslrootcert, `${DATABASE_TLS_DIR}/ca.crt`, role);
  }
});

test("database pods mount the certificate and advertise a name it covers; stages get the CA alone", () => {
  const tp = pipeline();
  const db = podSpec(buildDatabaseStatefulSet(tp));
  const volume = db.volumes?.find((v) => v.secret?.secretName === databaseTlsSecretName("alpha"));
  assert.ok(volume, "the database pod mounts the TLS Secret");
  assert.equal(volume.secret?.defaultMode, 0o640, "root's, group-readable: what Postgres accepts");
  const container = db.containers[0];
  assert.ok(container?.volumeMounts?.some((m) => m.mountPath === DATABASE_TLS_DIR));
  const connect = container?.env?.find((e) => e.name === "PATRONI_POSTGRESQL_CONNECT_ADDRESS");
  assert.equal(
    connect?.value,
    "$(PATRONI_NAME).alpha-db.$(PATRONI_KUBERNETES_NAMESPACE).svc:5432",
    "a replica dials (and verifies) the pod's DNS name, not its IP",
  );

  for (const workload of buildStageWorkloads(tp)) {
    const spec = workload.spec?.template.spec as V1PodSpec;
    const ca = spec.volumes?.find((v) => v.secret?.secretName === databaseTlsSecretName("alpha"));
    assert.deepEqual(ca?.secret?.items, [{ key: "ca.crt", path: "ca.crt" }], "never the key");
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const caEnv = c.env?.find((e) => e.name === "DATABASE_CA_FILE");
      assert.equal(caEnv?.value, `${DATABASE_CA_DIR}/ca.crt`, c.name);
      assert.ok(
        c.volumeMounts?.some((m) => m.mountPath === DATABASE_CA_DIR),
        c.name,
      );
    }
  }
});
