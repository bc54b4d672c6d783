import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { ensureBinaries } from "./binaries.ts";
import { type ControlPlaneState, readControlPlaneState } from "./controlplane.ts";
import { isRunning } from "./processes.ts";

const run = promisify(execFile);
const here = import.meta.dirname;

async function script(name: "up.ts" | "down.ts", dir: string) {
  return run(process.execPath, [join(here, name), "--dir", dir], { timeout: 180_000 });
}

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) {
    await script("down.ts", dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test("cluster:up leaves a cluster running and ends with KUBECONFIG=; cluster:down stops it", {
  timeout: 70 * 60 * 1000,
}, async () => {
  const binDir = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), "tradepipe-cluster-up-"));
  dirs.push(dir);

  const up = await script("up.ts", dir);
  const lines = up.stdout.trimEnd().split("\n");
  const kubeconfig = lines.at(-1)?.replace(/^KUBECONFIG=/, "") ?? "";
  assert.match(lines.at(-1) ?? "", /^KUBECONFIG=\//);
  assert.ok(existsSync(kubeconfig), `${kubeconfig} exists`);

  // The starting process has exited; the cluster answers on its own.
  const { stdout } = await run(join(binDir, "kubectl"), ["get", "nodes", "-o", "name"], {
    env: { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, "cache", "kubectl") },
  });
  assert.equal(stdout.trim().split("\n").length, 5);

  const again = await script("up.ts", dir);
  assert.equal(again.stdout.trimEnd().split("\n").at(-1), `KUBECONFIG=${kubeconfig}`);
  assert.match(again.stdout, /already running/);

  const state = (await readControlPlaneState(dir)) as ControlPlaneState;
  assert.equal(state.components.length, 5);
  const down = await script("down.ts", dir);
  assert.match(down.stdout, /Stopped 5 component/);
  for (const component of state.components) {
    assert.equal(await isRunning(component), false, `${component.name} stopped`);
  }
  assert.equal(existsSync(dir), false);
});
