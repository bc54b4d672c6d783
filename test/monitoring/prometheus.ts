/**
 * prometheus: a real Prometheus (Debian's package) for tests, on a free loopback port with a
 * generated configuration and a temporary storage directory, and a small HTTP API client.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import { freePort } from "../cluster/processes.ts";
import { PROMETHEUS } from "./support.ts";

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  url: string;
  /** query runs an instant query and returns its vector. */
  query(expr: string): Promise<PromSample[]>;
  get<T>(path: string): Promise<T>;
  logs(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  scrapeConfigs: unknown[];
  ruleFiles?: string[];
  scrapeInterval?: string;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "tp-prom-"));
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    stringify({
      global: {
        scrape_interval: opts.scrapeInterval ?? "1s",
        evaluation_interval: opts.scrapeInterval ?? "1s",
      },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: opts.scrapeConfigs,
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.console.templates=/nonexistent",
      "--web.console.libraries=/nonexistent",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = once(child, "exit");
  const spawnError = once(child, "error").then(([err]) => err as NodeJS.ErrnoException);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(250).then(() => undefined)]);
    if (failed) {
      await rm(dir, { recursive: true, force: true });
      throw failed.code === "ENOENT"
        ? new Error(`${PROMETHEUS} not found: apt-get install -y prometheus`)
        : failed;
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited ${child.exitCode}:\n${output.slice(-2000)}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 30 s:\n${output.slice(-2000)}`);
    }
  }
  return {
    url,
    get,
    query: async (expr) =>
      (await get<{ result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`))
        .result,
    logs: () => output,
    stop,
  };
}
