/**
 * embedded-tls: the embedded server speaks TLS only. Each data directory has its own CA and
 * server certificate (`<dataDir>/tls/`, made on first start, reused, renewed before expiry),
 * and its pg_hba.conf, rewritten at every start, refuses every connection without TLS.
 * Clients verify the server (`sslmode=verify-full&sslrootcert=<dataDir>/tls/ca.crt`).
 */
import { join } from "node:path";
import { ensureServerTls, type TlsFiles, writePrivateFile } from "../tls/files.ts";

/** The directory inside the data directory holding the CA and the server certificate. */
export const EMBEDDED_TLS_DIR = "tls";

/** Every name a local client may dial; the server listens on 127.0.0.1. */
export const EMBEDDED_TLS_HOSTS = ["localhost", "127.0.0.1", "::1"] as const;

/**
 * EMBEDDED_HBA is the whole pg_hba.conf: a connection without TLS is rejected before any
 * password is asked; with TLS, SCRAM from the loopback addresses only. (The server has no Unix
 * socket, so there are no `local` lines.)
 */
export const EMBEDDED_HBA = `# Written by tradepipe at every start of the embedded server; edits are overwritten.
# TLS only: a connection without it is refused before authentication.
hostnossl all         all 0.0.0.0/0    reject
hostnossl all         all ::/0         reject
hostnossl replication all 0.0.0.0/0    reject
hostnossl replication all ::/0         reject
hostssl   all         all 127.0.0.1/32 scram-sha-256
hostssl   all         all ::1/128      scram-sha-256
hostssl   replication all 127.0.0.1/32 scram-sha-256
hostssl   replication all ::1/128      scram-sha-256
`;

interface Log {
  info(obj: object, msg?: string): void;
}

/**
 * prepareEmbeddedTls makes (or renews) the data directory's certificates and writes its
 * pg_hba.conf, both owned by `owner` (the server's user when this process is root).
 */
export async function prepareEmbeddedTls(
  dataDir: string,
  owner: { uid: number; gid: number } | undefined,
  log?: Log,
): Promise<TlsFiles> {
  const ensured = await ensureServerTls(join(dataDir, EMBEDDED_TLS_DIR), {
    hosts: EMBEDDED_TLS_HOSTS,
    now: new Date(),
    caName: "tradepipe embedded Postgres CA",
    owner,
  });
  if (ensured.made !== "nothing") {
    log?.info(
      { dataDir, made: ensured.made, reason: ensured.reason },
      "embedded postgres: made a TLS certificate",
    );
  }
  await writePrivateFile(join(dataDir, "pg_hba.conf"), EMBEDDED_HBA, owner);
  return ensured.files;
}
