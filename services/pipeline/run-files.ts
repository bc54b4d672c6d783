/**
 * run-files: what a running `tradepipe run` leaves on disk for other commands on this machine
 * (`tradepipe kill-switch`, `tradepipe report`): one file per live run with its database URL
 * (mode 0600), and the directory for its logs.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Database } from "../core/db/connect.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { Logger } from "../core/telemetry/index.ts";

/**
 * writeRunFile lets `tradepipe kill-switch` find this run's database: one file per running
 * `tradepipe run` (runs/<pid>.json, mode 0600), removed when the run stops.
 */
export function writeRunFile(
  db: Database,
  pipeline: TradingPipeline,
  env: NodeJS.ProcessEnv,
  log: Logger,
  cleanups: Array<() => Promise<void>>,
): void {
  const dir = join(runStateDir(env), "runs");
  const file = join(dir, `${process.pid}.json`);
  try {
    makePrivateDir(dir);
    const run: RunFile = {
      pid: process.pid,
      pipeline: pipeline.metadata.name,
      databaseUrl: db.url,
    };
    writeFileSync(file, JSON.stringify(run), { mode: 0o600 });
    cleanups.push(async () => rmSync(file, { force: true }));
  } catch (err) {
    log.warn({ err: (err as Error).message }, "could not write the run file");
  }
}

/** RunFile describes one running `tradepipe run` for other commands on this machine. */
export interface RunFile {
  pid: number;
  pipeline: string;
  databaseUrl: string;
}

/** liveRuns lists the `tradepipe run` processes on this machine that are still alive. */
export function liveRuns(env: NodeJS.ProcessEnv = process.env): RunFile[] {
  const dir = join(runStateDir(env), "runs");
  if (!existsSync(dir)) return [];
  const runs: RunFile[] = [];
  for (const name of readdirSync(dir)) {
    try {
      const run = JSON.parse(readFileSync(join(dir, name), "utf8")) as RunFile;
      process.kill(run.pid, 0);
      runs.push(run);
    } catch {
      // A run that died without cleaning up (or a torn file): not a live run.
    }
  }
  return runs;
}

/**
 * makePrivateDir creates `dir` (mode 0700) and any missing parents with ordinary permissions:
 * the embedded Postgres runs as another user and must still reach the data directory above.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function runStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRADEPIPE_DATA_DIR) return join(env.TRADEPIPE_DATA_DIR, "run");
  const base = env.XDG_RUNTIME_DIR || tmpdir();
  return join(base, `tradepipe-${process.getuid?.() ?? 0}`);
}
