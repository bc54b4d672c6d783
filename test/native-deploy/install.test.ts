/** install.sh staged into a temporary root (DESTDIR): files, modes, and refusal of a bad spec. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const script = join(root, "native-deploy", "install.sh");

test("install.sh stages the app, a private config directory and the units", async () => {
  const dest = await mkdtemp(join(tmpdir(), "tp-install-"));
  try {
    const r = await run("bash", [script, "-f", join(root, "config", "pipeline.yaml")], {
      env: { ...process.env, DESTDIR: dest },
      maxBuffer: 1 << 24,
    });
    assert.match(r.stdout, /created {3}tradepipe-local\.target/);
    const config = join(dest, "etc", "tradepipe", "local");
    assert.equal((await stat(config)).mode & 0o777, 0o750);
    assert.equal((await stat(join(config, "credentials"))).mode & 0o777, 0o700);
    assert.equal((await stat(join(config, "database.env"))).mode & 0o777, 0o600);
    const units = await readdir(join(dest, "etc", "systemd", "system"));
    assert.equal(units.filter((u) => u.endsWith(".service")).length, 5);
    await stat(join(dest, "opt", "tradepipe", "node_modules", "node", "bin", "node"));
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
