import { rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultClusterDir } from "./components.ts";
import { readControlPlaneState, startControlPlane, stopControlPlaneAt } from "./controlplane.ts";
import { isRunning } from "./processes.ts";

const usage = `usage: npm run cluster:up [-- --dir DIR]
Starts a test control plane in the background (state in DIR, default ${defaultClusterDir()})
and prints KUBECONFIG=<path> as its last line. Stop it with npm run cluster:down.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const dir = values.dir ?? defaultClusterDir();
  const state = await readControlPlaneState(dir);
  if (state) {
    const running = await Promise.all(state.components.map((c) => isRunning(c)));
    if (running.every(Boolean)) {
      console.log(`A control plane is already running at ${state.server} (state in ${dir}).`);
      console.log(`KUBECONFIG=${state.kubeconfigPath}`);
      return 0;
    }
    // A partly dead cluster is no use: clear it and start over.
    await stopControlPlaneAt(dir);
  }
  await rm(dir, { recursive: true, force: true });
  const cluster = await startControlPlane({ dir, detached: true, removeDirOnStop: false });
  console.log(`Kubernetes ${cluster.version} at ${cluster.server}`);
  console.log(`nodes: ${cluster.nodes.map((n) => n.name).join(", ")}`);
  console.log(`logs: ${join(dir, "logs")}; binaries (kubectl, helm): ${cluster.binDir}`);
  console.log("stop with: npm run cluster:down");
  console.log(`KUBECONFIG=${cluster.kubeconfigPath}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`cluster:up: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
