/**
 * The embedded server speaks TLS only and its clients verify it: a client without TLS, a client
 * trusting another CA (an impersonating server) and a server certificate for another host name
 * are all refused; the certificates are private files, reused across starts and renewed.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { maskDatabaseUrl } from "../../services/core/db/url.ts";
import {
  createCertificateAuthority,
  issueServerCertificate,
} from "../../services/core/tls/certificates.ts";
import { tlsFiles, writePrivateFile } from "../../services/core/tls/files.ts";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-tls-test-"));
  await chmod(dir, 0o755); // as root the server's own user must be able to enter it
  dirs.push(dir);
  return dir;
}

/** connectError: how a connection with this URL fails (undefined when it succeeds). */
async function connectError(url: string): Promise<(Error & { code?: string }) | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return err as Error & { code?: string };
  } finally {
    await client.end().catch(() => {});
  }
}

function withParams(url: string, params: Record<string, string | null>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) {
    if (v === null) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.toString();
}

test("the embedded server refuses plaintext, another CA and another host name", {
  timeout: 120_000,
}, async () => {
  const root = await tempDir();
  const dataDir = join(root, "data");
  const server = await startEmbeddedPostgres({ dataDir, durable: false, stopOnSignals: false });
  try {
    const params = new URL(server.url).searchParams;
    assert.equal(params.get("sslmode"), "verify-full");
    assert.equal(params.get("sslrootcert"), join(dataDir, "tls", "ca.crt"));
    assert.equal(server.caFile, join(dataDir, "tls", "ca.crt"));
    assert.equal(await connectError(server.url), undefined, "the verified URL connects");
    const session = new pg.Client({ connectionString: server.url });
    await session.connect();
    const ssl = await session.query<{ ssl: boolean }>(
      "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    await session.end();
    assert.equal(ssl.rows[0]?.ssl, true, "the session is encrypted");

    // 1. No TLS: pg_hba.conf refuses it before asking for the password.
    const plain = await connectError(
      withParams(server.url, { sslmode: "disable", sslrootcert: null }),
    );
    assert.equal(plain?.code, "28000", `plaintext refused: ${plain?.message}`);
    assert.match(plain?.message ?? "", /no encryption/);

    // 2. A client that trusts another CA (what it would see from an impersonating server).
    const other = await createCertificateAuthority({ commonName: "someone else", now: new Date() });
    const otherCa = join(root, "other-ca.crt");
    await writeFile(otherCa, other.certPem);
    const foreign = await connectError(withParams(server.url, { sslrootcert: otherCa }));
    assert.ok(foreign, "a client trusting another CA must not connect");
    assert.match(foreign.code ?? "", /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/);
    // …and one trusting only the public roots (no sslrootcert) is refused too.
    const publicRoots = await connectError(withParams(server.url, { sslrootcert: null }));
    assert.match(publicRoots?.code ?? "", /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/);

    // 3. A certificate from the right CA for another host: the name check refuses it.
    const files = tlsFiles(join(dataDir, "tls"));
    const ca = {
      certPem: await readFile(files.caFile, "utf8"),
      keyPem: await readFile(files.caKeyFile, "utf8"),
    };
    const elsewhere = await issueServerCertificate(ca, {
      hosts: ["db.elsewhere.example"],
      now: new Date(),
    });
    const owner = await stat(dataDir);
    const ids = { uid: owner.uid, gid: owner.gid };
    await writePrivateFile(files.keyFile, elsewhere.keyPem, ids);
    await writePrivateFile(files.certFile, elsewhere.certPem, ids);
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query("SELECT pg_reload_conf()");
    await admin.end();
    let wrongHost: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 100; i++) {
      wrongHost = await connectError(server.url);
      if (wrongHost) break;
      await new Promise((r) => setTimeout(r, 100)); // the reload is asynchronous
    }
    assert.equal(wrongHost?.code, "ERR_TLS_CERT_ALTNAME_INVALID", `${wrongHost?.message}`);
  } finally {
    await server.stop();
  }

  // The next start notices the certificate does not name 127.0.0.1 and issues a new one.
  const again = await startEmbeddedPostgres({ dataDir, durable: false, stopOnSignals: false });
  try {
    assert.equal(await connectError(again.url), undefined);
  } finally {
    await again.stop();
  }
});

test("the certificates are private to the server's user and reused across starts", {
  timeout: 120_000,
}, async () => {
  const dataDir = join(await tempDir(), "data");
  const first = await startEmbeddedPostgres({ dataDir, durable: false, stopOnSignals: false });
  await first.stop();
  const files = tlsFiles(join(dataDir, "tls"));
  const owner = await stat(dataDir);
  const dir = await stat(files.dir);
  assert.equal(dir.mode & 0o777, 0o700);
  const before: Record<string, string> = {};
  for (const path of [files.caFile, files.caKeyFile, files.certFile, files.keyFile]) {
    const s = await stat(path);
    assert.equal(s.mode & 0o777, 0o600, `${path} is 0600`);
    assert.equal(s.uid, owner.uid, `${path} belongs to the server's user`);
    before[path] = await readFile(path, "utf8");
  }
  const hba = await readFile(join(dataDir, "pg_hba.conf"), "utf8");
  assert.match(hba, /^hostnossl\s+all\s+all\s+0\.0\.0\.0\/0\s+reject$/m);
  assert.doesNotMatch(hba, /^host\s/m, "no rule admits a connection without TLS");

  const second = await startEmbeddedPostgres({ dataDir, durable: false, stopOnSignals: false });
  try {
    for (const [path, text] of Object.entries(before)) {
      assert.equal(await readFile(path, "utf8"), text, `${path} reused`);
    }
    assert.equal(await connectError(second.url), undefined);
  } finally {
    await second.stop();
  }
});

test("the database URL mask hides the password and the TLS parameters", () => {
  const url =
    "postgres://tradepipe_risk_manager_login:pa%20ss@127.0.0.1:5433/tradepipe?sslmode=verify-full&sslrootcert=%2Fsecret%2Fca.crt";
  const masked = maskDatabaseUrl(url);
  assert.equal(masked, "postgres://***@127.0.0.1:5433/tradepipe");
});
