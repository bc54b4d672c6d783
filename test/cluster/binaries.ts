import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** clusterBinaries names every executable build.sh puts into the cache's bin directory. */
export const clusterBinaries = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "kwok",
  "helm",
] as const;

export type ClusterBinary = (typeof clusterBinaries)[number];

/** buildScript is the path of build.sh, which owns the versions and the cache layout. */
export const buildScript = join(dirname(fileURLToPath(import.meta.url)), "build.sh");

function runBuildScript(args: string[], output: "capture" | "stderr"): Promise<string> {
  return new Promise((resolve, reject) => {
    // Build progress goes to stderr so it never mixes with a test runner's stdout protocol.
    const child = spawn("bash", [buildScript, ...args], {
      stdio: ["ignore", output === "capture" ? "pipe" : 2, 2],
    });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(stdout.trim());
      else reject(new Error(`${buildScript} ${args.join(" ")} exited with ${code}`));
    });
  });
}

/** cachedBinDir returns the versioned cache directory without building anything. */
export function cachedBinDir(): Promise<string> {
  return runBuildScript(["--bin-dir"], "capture");
}

async function missingBinaries(dir: string): Promise<ClusterBinary[]> {
  const missing: ClusterBinary[] = [];
  for (const name of clusterBinaries) {
    try {
      await access(join(dir, name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

/**
 * ensureBinaries returns the directory holding every cluster binary, running build.sh first
 * when any is missing (a cold build takes tens of minutes; later calls return at once).
 */
export async function ensureBinaries(): Promise<string> {
  const dir = await cachedBinDir();
  const missing = await missingBinaries(dir);
  if (missing.length === 0) return dir;
  process.stderr.write(`[cluster] building missing binaries: ${missing.join(", ")}\n`);
  await runBuildScript([], "stderr");
  const stillMissing = await missingBinaries(dir);
  if (stillMissing.length > 0) {
    throw new Error(`${buildScript} finished but ${dir} lacks ${stillMissing.join(", ")}`);
  }
  return dir;
}
