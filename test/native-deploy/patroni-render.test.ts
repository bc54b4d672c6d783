/**
 * The bare-metal database tier as `tradepipe render systemd --ha-out …` writes it, judged by the
 * real tools: `patroni --validate-config` (against a live etcd) and `systemd-analyze verify`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { PATRONI_TIMINGS, renderPatroniConfig } from "../../native-deploy/patroni-config.ts";
import { loadPipelineFile } from "../../services/core/spec/index.ts";
import { type Etcd, freePort, patroniRuntime, startEtcd } from "../support/patroni.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "bin", "tradepipe.ts");
let dir: string;
let etcd: Etcd;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tp-patroni-render-"));
  await chmod(dir, 0o755);
  etcd = await startEtcd(dir, 1);
});
after(async () => {
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function render(...extra: string[]) {
  const rt = await patroniRuntime();
  return run(process.execPath, [
    cli,
    "render",
    "systemd",
    "-f",
    join(root, "config", "pipeline.yaml"),
    "-o",
    join(dir, "units"),
    "--prefix",
    root,
    "--patroni-bin",
    rt.patroni,
    "--etcd-bin",
    rt.etcd,
    "--pg-bin-dir",
    rt.pgBinDir,
    ...extra,
  ]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

test("render writes Patroni for two Postgres hosts and etcd for three voters, per host", async () => {
  const out = join(dir, "hosts");
  const r = await render(
    "--ha-out",
    out,
    "--db-hosts",
    "db-a=10.0.0.11,db-b=10.0.0.12",
    "--etcd-hosts",
    "db-a=10.0.0.11,db-b=10.0.0.12,witness=10.0.0.13",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await readdir(out)).sort(), ["db-a", "db-b", "witness"]);
  // The five stage units and the dashboard's.
  assert.deepEqual(
    (await readdir(join(dir, "units"))).filter((f) => f.endsWith(".service")).length,
    6,
  );
  const yml = await readFile(join(out, "db-a", "etc", "patroni", "tradepipe-local.yml"), "utf8");
  const cfg = parse(yml) as {
    name: string;
    etcd3: { hosts: string[] };
    bootstrap: {
      dcs: { ttl: number; loop_wait: number; retry_timeout: number; synchronous_mode: boolean };
    };
    postgresql: { remove_data_directory_on_rewind_failure: boolean; authentication: unknown };
  };
  assert.equal(cfg.name, "db-a");
  assert.deepEqual(cfg.etcd3.hosts, ["10.0.0.11:2379", "10.0.0.12:2379", "10.0.0.13:2379"]);
  assert.equal(cfg.bootstrap.dcs.synchronous_mode, true);
  assert.equal(cfg.postgresql.remove_data_directory_on_rewind_failure, false);
  assert.doesNotMatch(yml, /password/i, "no secret in the rendered YAML");
  const d = cfg.bootstrap.dcs;
  assert.ok(d.loop_wait + 2 * d.retry_timeout <= d.ttl, "loop_wait + 2 × retry_timeout ≤ ttl");
  // TLS only, and Patroni verifies the members it connects to.
  const pg = (parse(yml) as { postgresql: unknown }).postgresql as {
    pg_hba: string[];
    parameters: Record<string, string>;
    authentication: Record<string, { sslmode: string; sslrootcert: string }>;
  };
  assert.equal(pg.parameters.ssl, "on");
  assert.equal(pg.parameters.ssl_cert_file, "/etc/patroni/tradepipe-local-tls/server.crt");
  assert.ok(!pg.pg_hba.some((rule) => /^host\s/.test(rule)), "no rule admits plaintext");
  assert.ok(pg.pg_hba.includes("hostnossl all all 0.0.0.0/0 reject"));
  assert.ok(pg.pg_hba.includes("hostssl replication replicator 10.0.0.12/32 scram-sha-256"));
  for (const a of Object.values(pg.authentication)) {
    assert.deepEqual(a.sslmode, "verify-full");
    assert.equal(a.sslrootcert, "/etc/patroni/tradepipe-local-tls/ca.crt");
  }
  const etcdEnv = await readFile(
    join(out, "witness", "etc", "default", "tradepipe-local-etcd"),
    "utf8",
  );
  assert.match(
    etcdEnv,
    /^ETCD_INITIAL_CLUSTER=db-a=http:\/\/10\.0\.0\.11:2380,db-b=http:\/\/10\.0\.0\.12:2380,witness=http:\/\/10\.0\.0\.13:2380$/m,
  );
  // The witness runs etcd only; the database hosts run both.
  assert.deepEqual(await readdir(join(out, "witness", "etc", "systemd", "system")), [
    "tradepipe-local-etcd.service",
  ]);
  const units = await readdir(join(out, "db-a", "etc", "systemd", "system"));
  const verify = await run("systemd-analyze", [
    "verify",
    ...units.map((u) => join(out, "db-a", "etc", "systemd", "system", u)),
  ]).then(
    (x) => x.stderr,
    (e: { stderr: string }) => e.stderr,
  );
  // Only the missing users of this test machine may be mentioned (etcd's user exists on a host
  // with Debian's etcd-server).
  assert.equal(verify.replace(/^.*User.*$/gm, "").trim(), "");
});

test("Patroni's own validator accepts the rendered configuration", async () => {
  const rt = await patroniRuntime();
  const base = await loadPipelineFile(join(root, "config", "pipeline.yaml"));
  const config = renderPatroniConfig(
    base,
    {
      dbHosts: [{ name: "db-a", address: "127.0.0.2" }],
      etcdHosts: [{ name: "etcd0", address: "127.0.0.1" }],
      pgBinDir: rt.pgBinDir,
    },
    { name: "db-a", address: "127.0.0.2" },
    {
      pgPort: await freePort(),
      restApiPort: await freePort(),
      etcdEndpoints: etcd.endpoints,
      dataDir: join(dir, "data"),
      socketDir: dir,
    },
  );
  const file = join(dir, "validate.yml");
  await writeFile(file, JSON.stringify(config), { mode: 0o644 });
  const ok = await run(rt.patroni, ["--validate-config", file]).then(
    () => "",
    (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`,
  );
  assert.equal(ok, "");
  // And a ttl below Patroni's floor is refused by the same validator (the check is real).
  const bad = {
    ...config,
    bootstrap: { dcs: { ...(config.bootstrap as { dcs: object }).dcs, ttl: 10 } },
  };
  await writeFile(file, JSON.stringify(bad));
  const refused = await run(rt.patroni, ["--validate-config", file]).then(
    () => "",
    (e: { stdout: string; stderr: string }) => `${e.stdout}${e.stderr}`,
  );
  assert.match(refused, /ttl/);
  assert.ok(PATRONI_TIMINGS.ttl >= 20);
});

test("bad database-tier flags are refused by name and nothing is written", async () => {
  const out = join(dir, "bad");
  const even = await render(
    "--ha-out",
    out,
    "--db-hosts",
    "a=1.2.3.4",
    "--etcd-hosts",
    "a=1.2.3.4,b=1.2.3.5",
  );
  assert.equal(even.code, 1);
  assert.match(even.stderr, /--etcd-hosts: 2 voters; use an odd number/);
  const malformed = await render("--ha-out", out, "--db-hosts", "A_B", "--etcd-hosts", "a=1.2.3.4");
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /--db-hosts: "A_B" is not name=address/);
  const partial = await render("--db-hosts", "a=1.2.3.4");
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /--ha-out, --db-hosts and --etcd-hosts go together/);
  await assert.rejects(readdir(out), { code: "ENOENT" });
});

test("certificate paths are options: --db-tls-dir for the Postgres hosts, --db-ca-file for the stages", async () => {
  const out = join(dir, "paths");
  const r = await render(
    "--ha-out",
    out,
    "--db-hosts",
    "db-a=10.0.0.11",
    "--etcd-hosts",
    "db-a=10.0.0.11",
    "--db-tls-dir",
    "/srv/pki/db",
    "--db-ca-file",
    "/srv/pki/ca.crt",
  );
  assert.equal(r.code, 0, r.stderr);
  const cfg = parse(
    await readFile(join(out, "db-a", "etc", "patroni", "tradepipe-local.yml"), "utf8"),
  ) as { postgresql: { parameters: Record<string, string> } };
  assert.equal(cfg.postgresql.parameters.ssl_key_file, "/srv/pki/db/server.key");
  const unit = await readFile(join(dir, "units", "tradepipe-local-risk-manager.service"), "utf8");
  assert.match(unit, /^LoadCredential=database-ca\.crt:\/srv\/pki\/ca\.crt$/m);
});
