/**
 * support: Debian's Prometheus tools (package `prometheus`: /usr/bin/prometheus and promtool)
 * and the metric names the stages define.
 */
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MONITORING = join(ROOT, "monitoring");
export const PROMTOOL = process.env.PROMTOOL ?? "promtool";
export const PROMETHEUS = process.env.PROMETHEUS ?? "prometheus";

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** run runs a tool to completion; a missing binary fails with how to install it. */
export function run(bin: string, args: string[], input = "", cwd = ROOT): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error(
              `${bin} not found: install Debian's prometheus package (apt-get install -y prometheus)`,
            )
          : err,
      ),
    );
    child.on("close", (code) => resolve({ stdout, stderr, exitCode: code ?? 1 }));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/**
 * definedMetricNames: every tradepipe_ series the code creates through the telemetry helpers
 * (`.counter("x_total", …)`, `.gauge(…)`, `.latencyHistogram(…)`), found in services/ and
 * operator/. Histograms also give their _bucket, _sum and _count series.
 */
export async function definedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const pattern = /\.(counter|gauge|latencyHistogram)(?:<[^>]*>)?\(\s*"([a-z_0-9]+)"/g;
  for (const dir of ["services", "operator"]) {
    for (const file of await sourceFiles(join(ROOT, dir))) {
      const text = await readFile(file, "utf8");
      for (const m of text.matchAll(pattern)) {
        const full = m[2]!.startsWith("tradepipe_") ? m[2]! : `tradepipe_${m[2]}`;
        names.add(full);
        if (m[1] === "latencyHistogram") {
          for (const s of ["_bucket", "_sum", "_count"]) names.add(`${full}${s}`);
        }
      }
    }
  }
  return names;
}

/** metricNamesIn: the tradepipe_ metric names a PromQL expression refers to. */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\btradepipe_[a-z0-9_]+/g)].map((m) => m[0]);
}

/**
 * PENDING_METRICS: series the alert rules and dashboards use that no stage exports yet
 * (monitoring/README.md, "Metrics the stages still owe"). The test fails once one of them
 * appears in the code, so this list only shrinks.
 */
export const PENDING_METRICS = new Set<string>([]);
