/**
 * authority: the two steps of `tradepipe certs` as functions — a CA kept on an administrator's
 * machine, and one host's server certificate issued from it into a directory for that host.
 * Both leave good files alone, so running them again rotates only what must change.
 */
import { readFile } from "node:fs/promises";
import {
  certificateExpiry,
  createCertificateAuthority,
  issueServerCertificate,
  renewalReason,
} from "./certificates.ts";
import { ensureDirectory, TLS_FILE_NAMES, tlsFiles, writePrivateFile } from "./files.ts";

type Owner = { uid: number; gid: number } | undefined;

/**
 * ensureCertificateAuthority makes ca.crt and ca.key in `dir` when missing or expiring (or
 * `force`), and says what it did.
 */
export async function ensureCertificateAuthority(
  dir: string,
  opts: { name?: string | undefined; now: Date; force?: boolean | undefined },
): Promise<string> {
  const files = tlsFiles(dir);
  const current = await readOptional(files.caFile);
  const problem =
    current === undefined ? "there is none" : renewalReason(current, { now: opts.now });
  if (!opts.force && problem === undefined) {
    return `kept      ${files.caFile} (valid until ${certificateExpiry(current ?? "").toISOString()})`;
  }
  await ensureDirectory(dir);
  const ca = await createCertificateAuthority({
    commonName: opts.name ?? "tradepipe database CA",
    now: opts.now,
  });
  await writePrivateFile(files.caKeyFile, ca.keyPem);
  await writePrivateFile(files.caFile, ca.certPem);
  return `created   ${files.caFile} and ${TLS_FILE_NAMES.caKey} (${opts.force ? "--force" : problem}); give every client and database host the new ca.crt, then reissue the server certificates`;
}

/**
 * ensureHostCertificate writes `out`/ca.crt and, when missing, expiring, signed by another CA,
 * not naming every one of `hosts` (or `force`), a new server.crt and server.key from the CA in
 * `caDir`; every file 0600, owned by `owner` when given (the database's user).
 */
export async function ensureHostCertificate(
  caDir: string,
  out: string,
  opts: { hosts: readonly string[]; now: Date; force?: boolean | undefined; owner?: Owner },
): Promise<string> {
  const ca = tlsFiles(caDir);
  const pair = {
    certPem: await readFile(ca.caFile, "utf8"),
    keyPem: await readFile(ca.caKeyFile, "utf8"),
  };
  const caProblem = renewalReason(pair.certPem, { now: opts.now });
  if (caProblem) throw new Error(`the CA in ${caDir} must be renewed first: ${caProblem}`);
  const files = tlsFiles(out);
  const current = await readOptional(files.certFile);
  const problem =
    current === undefined
      ? "there is none"
      : renewalReason(current, { now: opts.now, caPem: pair.certPem, hosts: opts.hosts });
  await ensureDirectory(out, opts.owner);
  await writePrivateFile(files.caFile, pair.certPem, opts.owner);
  if (!opts.force && problem === undefined) {
    return `kept      ${files.certFile} (valid until ${certificateExpiry(current ?? "").toISOString()})`;
  }
  const issued = await issueServerCertificate(pair, { hosts: opts.hosts, now: opts.now });
  await writePrivateFile(files.keyFile, issued.keyPem, opts.owner);
  await writePrivateFile(files.certFile, issued.certPem, opts.owner);
  return `created   ${files.certFile} and ${TLS_FILE_NAMES.key} for ${opts.hosts.join(", ")} (${opts.force ? "--force" : problem})`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
