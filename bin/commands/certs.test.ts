import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { main } from "./certs.ts";

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test("certs ca + certs server: a host's certificate from a CA kept elsewhere, kept when good", async () => {
  const root = await mkdtemp(join(tmpdir(), "tp-certs-cli-"));
  dirs.push(root);
  const caDir = join(root, "ca");
  const out = join(root, "db-a");
  assert.equal(await main(["ca", "--dir", caDir]), 0);
  const hosts = "db-a.internal,10.0.0.11,127.0.0.1";
  assert.equal(await main(["server", "--ca-dir", caDir, "--hosts", hosts, "--out", out]), 0);
  const ca = new X509Certificate(await readFile(join(caDir, "ca.crt")));
  const cert = new X509Certificate(await readFile(join(out, "server.crt")));
  assert.ok(cert.verify(ca.publicKey));
  assert.equal(cert.checkIP("10.0.0.11"), "10.0.0.11");
  assert.equal(cert.checkHost("db-a.internal"), "db-a.internal");
  assert.equal(
    await readFile(join(out, "ca.crt"), "utf8"),
    await readFile(join(caDir, "ca.crt"), "utf8"),
  );
  assert.equal(existsSync(join(out, "ca.key")), false, "the CA key stays in the CA directory");
  for (const f of ["server.key", "server.crt", "ca.crt"]) {
    assert.equal((await stat(join(out, f))).mode & 0o777, 0o600, f);
  }
  assert.equal((await stat(join(caDir, "ca.key"))).mode & 0o777, 0o600);

  // Run again: nothing changes; a new host name reissues the server certificate only.
  const before = await readFile(join(out, "server.crt"), "utf8");
  assert.equal(await main(["ca", "--dir", caDir]), 0);
  assert.equal(await main(["server", "--ca-dir", caDir, "--hosts", hosts, "--out", out]), 0);
  assert.equal(await readFile(join(out, "server.crt"), "utf8"), before);
  assert.equal(
    await main(["server", "--ca-dir", caDir, "--hosts", `${hosts},db-a`, "--out", out]),
    0,
  );
  assert.notEqual(await readFile(join(out, "server.crt"), "utf8"), before);
  assert.equal(await main(["server", "--ca-dir", caDir, "--out", out]), 2, "--hosts is required");
});
