import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Pki lists the files a control plane needs for TLS and service-account tokens. */
export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** servingNames are the names and addresses the apiserver certificate is valid for. */
export const servingNames = [
  "IP:127.0.0.1",
  "DNS:localhost",
  "IP:10.96.0.1",
  "DNS:kubernetes",
  "DNS:kubernetes.default",
  "DNS:kubernetes.default.svc",
  "DNS:kubernetes.default.svc.cluster.local",
];

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}

/**
 * generatePki writes a fresh CA, an apiserver serving certificate signed by it and an RSA key
 * pair for signing service-account tokens into dir, using the openssl command.
 */
export async function generatePki(dir: string): Promise<Pki> {
  const pki: Pki = {
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    servingCert: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
  const csr = join(dir, "apiserver.csr");
  const extensions = join(dir, "apiserver.ext");
  await writeFile(
    extensions,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${servingNames.join(",")}`,
      "",
    ].join("\n"),
  );
  const days = "3650";
  // biome-ignore format: option and value read better side by side
  await openssl([
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", days,
    "-subj", "/CN=tradepipe-test-ca", "-keyout", pki.caKey, "-out", pki.caCert,
  ]);
  // biome-ignore format: option and value read better side by side
  await openssl([
    "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
    "-subj", "/CN=kube-apiserver", "-keyout", pki.servingKey, "-out", csr,
  ]);
  // biome-ignore format: option and value read better side by side
  await openssl([
    "x509", "-req", "-sha256", "-days", days, "-in", csr, "-CA", pki.caCert,
    "-CAkey", pki.caKey, "-CAcreateserial", "-extfile", extensions, "-out", pki.servingCert,
  ]);
  await openssl(["genrsa", "-out", pki.serviceAccountKey, "2048"]);
  await openssl(["rsa", "-in", pki.serviceAccountKey, "-pubout", "-out", pki.serviceAccountPub]);
  return pki;
}
