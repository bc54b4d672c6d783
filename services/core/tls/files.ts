/**
 * files: a server's CA and certificate kept in one directory, made on first use, reused after,
 * and replaced when expiring, when the host names change, or when the CA no longer matches.
 * Every file is 0600 and (when `owner` is given) owned by the user that runs the server, which
 * is what Postgres demands of its key.
 */
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAndCertificate,
  renewalReason,
} from "./certificates.ts";

/** The file names inside a TLS directory (the layout `tradepipe certs` writes too). */
export const TLS_FILE_NAMES = {
  ca: "ca.crt",
  caKey: "ca.key",
  cert: "server.crt",
  key: "server.key",
} as const;

export interface TlsFiles {
  dir: string;
  /** The CA certificate clients trust (`sslrootcert`). */
  caFile: string;
  caKeyFile: string;
  /** The server's certificate and key (`ssl_cert_file`, `ssl_key_file`). */
  certFile: string;
  keyFile: string;
}

export function tlsFiles(dir: string): TlsFiles {
  return {
    dir,
    caFile: join(dir, TLS_FILE_NAMES.ca),
    caKeyFile: join(dir, TLS_FILE_NAMES.caKey),
    certFile: join(dir, TLS_FILE_NAMES.cert),
    keyFile: join(dir, TLS_FILE_NAMES.key),
  };
}

export interface EnsureServerTlsOptions {
  /** Names and addresses clients dial: each must be in the certificate. */
  hosts: readonly string[];
  now: Date;
  /** The CA's common name when a new one is made. */
  caName: string;
  /** Owner of the directory and files (the server's user when this process is root). */
  owner?: { uid: number; gid: number } | undefined;
}

export interface EnsuredServerTls {
  files: TlsFiles;
  /** What was made this time: nothing, a new server certificate, or a new CA and certificate. */
  made: "nothing" | "server" | "all";
  /** Why it was made (for the log). */
  reason?: string;
}

/** ensureServerTls makes or renews the CA and server certificate in `dir` as needed. */
export async function ensureServerTls(
  dir: string,
  opts: EnsureServerTlsOptions,
): Promise<EnsuredServerTls> {
  const files = tlsFiles(dir);
  await ensureDirectory(dir, opts.owner);

  const ca = await readPair(files.caFile, files.caKeyFile);
  const caProblem = ca ? renewalReason(ca.certPem, { now: opts.now }) : "there is no CA yet";
  if (!ca || caProblem) {
    const newCa = await createCertificateAuthority({ commonName: opts.caName, now: opts.now });
    const server = await issueServerCertificate(newCa, { hosts: opts.hosts, now: opts.now });
    await writePair(files.caFile, files.caKeyFile, newCa, opts.owner);
    await writePair(files.certFile, files.keyFile, server, opts.owner);
    return { files, made: "all", reason: `CA: ${caProblem}` };
  }
  const server = await readPair(files.certFile, files.keyFile);
  const serverProblem = server
    ? renewalReason(server.certPem, { now: opts.now, caPem: ca.certPem, hosts: opts.hosts })
    : "there is no server certificate yet";
  if (!server || serverProblem) {
    const issued = await issueServerCertificate(ca, { hosts: opts.hosts, now: opts.now });
    await writePair(files.certFile, files.keyFile, issued, opts.owner);
    return { files, made: "server", reason: `server certificate: ${serverProblem}` };
  }
  return { files, made: "nothing" };
}

/** ensureDirectory makes `dir` (and parents) and leaves it 0700, owned by `owner` when given. */
export async function ensureDirectory(
  dir: string,
  owner?: { uid: number; gid: number },
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if (owner) await chown(dir, owner.uid, owner.gid);
}

async function readPair(certFile: string, keyFile: string): Promise<KeyAndCertificate | null> {
  try {
    return {
      certPem: await readFile(certFile, "utf8"),
      keyPem: await readFile(keyFile, "utf8"),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** writePair replaces both files; the key first, so a certificate never names a missing key. */
async function writePair(
  certFile: string,
  keyFile: string,
  pair: KeyAndCertificate,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  await writePrivateFile(keyFile, pair.keyPem, owner);
  await writePrivateFile(certFile, pair.certPem, owner);
}

/**
 * writePrivateFile writes a 0600 file through a new temporary name (O_EXCL: never through a
 * file or link someone placed there) and renames it over the old one.
 */
export async function writePrivateFile(
  path: string,
  text: string,
  owner?: { uid: number; gid: number },
): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: "wx" });
    if (owner) await chown(tmp, owner.uid, owner.gid);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
