import { spawn } from "node:child_process";
import { basename, join } from "node:path";
import type { Layout } from "./components.ts";

/** CommandOptions tune one kubectl or helm run. */
export interface CommandOptions {
  /** input is written to the command's stdin (e.g. manifests for `apply -f -`). */
  input?: string;
  /** kubeconfig overrides the admin kubeconfig (e.g. a ServiceAccount's). */
  kubeconfig?: string;
  /** check: reject when the exit code is not 0 (default true). */
  check?: boolean;
  /** timeoutMs kills the command after this long (default 120 s). */
  timeoutMs?: number;
}

/** CommandResult is the outcome of one kubectl or helm run. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** CommandError is thrown for a non-zero exit when options.check is not false. */
export class CommandError extends Error {
  result: CommandResult;
  constructor(message: string, result: CommandResult) {
    super(message);
    this.name = "CommandError";
    this.result = result;
  }
}

/**
 * runTool runs kubectl or helm against the cluster in layout, with caches and config kept in
 * the cluster's own directory so nothing touches the user's ~/.kube or ~/.config/helm.
 */
export function runTool(
  binary: string,
  args: string[],
  layout: Layout,
  options: CommandOptions = {},
): Promise<CommandResult> {
  const env = {
    ...process.env,
    KUBECONFIG: options.kubeconfig ?? layout.adminKubeconfig,
    KUBECACHEDIR: layout.kubectlCache,
    HELM_CACHE_HOME: join(layout.helmHome, "cache"),
    HELM_CONFIG_HOME: join(layout.helmHome, "config"),
    HELM_DATA_HOME: join(layout.helmHome, "data"),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result = { stdout, stderr, exitCode: code ?? (signal ? 128 : 1) };
      if (result.exitCode !== 0 && options.check !== false) {
        const what = `${basename(binary)} ${args.join(" ")}`;
        reject(new CommandError(`${what} exited ${result.exitCode}: ${stderr.trim()}`, result));
      } else {
        resolve(result);
      }
    });
    child.stdin.on("error", () => {
      // the command may exit before reading its input; its exit code tells what happened
    });
    child.stdin.end(options.input ?? "");
  });
}
