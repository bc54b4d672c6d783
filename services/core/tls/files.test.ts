import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  CERTIFICATE_LIFETIME,
  createCertificateAuthority,
  issueServerCertificate,
  renewalReason,
} from "./certificates.ts";
import { ensureServerTls, tlsFiles, writePrivateFile } from "./files.ts";

const DAY = 86_400_000;
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-tls-files-"));
  dirs.push(dir);
  return dir;
}

const HOSTS = ["localhost", "127.0.0.1", "::1"];

test("a server certificate names its hosts, is signed by the CA and is for servers only", async () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const ca = await createCertificateAuthority({ commonName: "test CA", now });
  const server = await issueServerCertificate(ca, { hosts: HOSTS, now });
  const cert = new X509Certificate(server.certPem);
  const caCert = new X509Certificate(ca.certPem);
  assert.equal(caCert.ca, true);
  assert.equal(cert.ca, false);
  assert.ok(cert.verify(caCert.publicKey), "signed by the CA");
  assert.equal(cert.checkHost("localhost"), "localhost");
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkIP("::1"), "::1");
  assert.equal(cert.checkHost("db.example"), undefined);
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"], "serverAuth only");
  assert.equal(
    new Date(cert.validTo).getTime(),
    now.getTime() + CERTIFICATE_LIFETIME.serverDays * DAY,
  );
  assert.equal(renewalReason(server.certPem, { now, caPem: ca.certPem, hosts: HOSTS }), undefined);
});

test("renewalReason names what is wrong", async () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const ca = await createCertificateAuthority({ commonName: "test CA", now });
  const other = await createCertificateAuthority({ commonName: "other CA", now });
  const server = await issueServerCertificate(ca, { hosts: ["db.example"], now, days: 40 });
  assert.match(renewalReason("junk", { now }) ?? "", /does not parse/);
  assert.match(renewalReason(server.certPem, { now, caPem: other.certPem }) ?? "", /another CA/);
  assert.match(renewalReason(server.certPem, { now, hosts: ["127.0.0.1"] }) ?? "", /127\.0\.0\.1/);
  assert.equal(
    renewalReason(server.certPem, { now: new Date(now.getTime() + 9 * DAY) }),
    undefined,
  );
  assert.match(
    renewalReason(server.certPem, { now: new Date(now.getTime() + 11 * DAY) }) ?? "",
    /expires/,
    "renewed 30 days before it expires",
  );
});

test("bad host names are refused with the name", async () => {
  const now = new Date();
  const ca = await createCertificateAuthority({ commonName: "test CA", now });
  await assert.rejects(issueServerCertificate(ca, { hosts: [], now }), /at least one host/);
  await assert.rejects(
    issueServerCertificate(ca, { hosts: ["db example"], now }),
    /"db example" is neither/,
  );
});

test("ensureServerTls makes, reuses and renews", async () => {
  const dir = join(await tempDir(), "tls");
  const files = tlsFiles(dir);
  const now = new Date();
  const opts = { hosts: HOSTS, caName: "test CA" };
  const made = await ensureServerTls(dir, { ...opts, now });
  assert.equal(made.made, "all");
  for (const path of [files.caFile, files.caKeyFile, files.certFile, files.keyFile]) {
    assert.equal((await stat(path)).mode & 0o777, 0o600, path);
  }
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const ca = await readFile(files.caFile, "utf8");
  const cert = await readFile(files.certFile, "utf8");

  assert.equal((await ensureServerTls(dir, { ...opts, now })).made, "nothing");
  assert.equal(await readFile(files.certFile, "utf8"), cert);

  // A new host name: a new server certificate from the same CA.
  const more = await ensureServerTls(dir, { ...opts, hosts: [...HOSTS, "db.example"], now });
  assert.equal(more.made, "server");
  assert.match(more.reason ?? "", /db\.example/);
  assert.equal(await readFile(files.caFile, "utf8"), ca, "the CA stays");

  // A year later the server certificate is near its end: renewed by the same CA.
  const later = new Date(now.getTime() + (CERTIFICATE_LIFETIME.serverDays - 10) * DAY);
  const renewed = await ensureServerTls(dir, { ...opts, now: later });
  assert.equal(renewed.made, "server");
  assert.match(renewed.reason ?? "", /expires/);
  assert.equal(await readFile(files.caFile, "utf8"), ca);

  // Near the CA's end: everything is new.
  const decade = new Date(now.getTime() + (CERTIFICATE_LIFETIME.caDays - 1) * DAY);
  const all = await ensureServerTls(dir, { ...opts, now: decade });
  assert.equal(all.made, "all");
  assert.notEqual(await readFile(files.caFile, "utf8"), ca);
  assert.equal(
    renewalReason(await readFile(files.certFile, "utf8"), {
      now: decade,
      caPem: await readFile(files.caFile, "utf8"),
      hosts: HOSTS,
    }),
    undefined,
  );
});

test("writePrivateFile never writes through a link planted at its temporary name", async () => {
  const dir = await tempDir();
  const target = join(dir, "victim");
  await writeFile(target, "untouched");
  await symlink(target, join(dir, "key.pem"));
  // The final name may be a link (rename replaces the link itself, not what it points to).
  await writePrivateFile(join(dir, "key.pem"), "secret");
  assert.equal(await readFile(target, "utf8"), "untouched");
  assert.equal(await readFile(join(dir, "key.pem"), "utf8"), "secret");
  assert.equal((await stat(join(dir, "key.pem"))).mode & 0o777, 0o600);
});
