/**
 * run-files: what a running `tradepipe run` leaves on disk for other commands on this machine
 * (`tradepipe kill-switch`, `tradepipe report`): one file per live run with its database URL and
 * control socket (mode 0600), and the directory for its logs.
 *
 * IMPORTANT: these files hold a database password and steer where `kill-switch` goes, so they
 * live only in a directory this user owns and nobody else may enter: `$XDG_RUNTIME_DIR`, else
 * the user's data directory, never a shared one like /tmp. A directory found with another owner
 * or a wider mode is refused (another user may have created it first), files are created with
 * O_EXCL|O_NOFOLLOW and read back only when they are regular files of this user.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Database } from "../core/db/connect.ts";
import { defaultDataDir } from "../core/db/embedded-paths.ts";
import { TradepipeError } from "../core/errors.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { Logger } from "../core/telemetry/index.ts";

/**
 * writeRunFile lets `tradepipe kill-switch` find this run: one file per running
 * `tradepipe run` (runs/<pid>.json, mode 0600), removed when the run stops.
 */
export function writeRunFile(
  db: Database,
  pipeline: TradingPipeline,
  controlSocket: string,
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
      controlSocket,
    };
    // A file left by an earlier process with this pid (the directory is ours alone).
    rmSync(file, { force: true });
    writeNewPrivateFile(file, JSON.stringify(run));
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
  /** The Unix socket of the run's control listener (POST /kill-switch). */
  controlSocket?: string;
}

/**
 * writeNewPrivateFile creates `path` (mode 0600) and writes `text`; it fails when anything is
 * already there, including a symlink (O_EXCL|O_NOFOLLOW), so it never writes through another
 * user's file or link.
 */
export function writeNewPrivateFile(path: string, text: string): void {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** readOwnFile reads `path` only when it is a regular file of this user (no symlink). */
function readOwnFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== currentUid()) throw new Error(`${path}: not our own file`);
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** liveRuns lists the `tradepipe run` processes on this machine that are still alive. */
export function liveRuns(env: NodeJS.ProcessEnv = process.env): RunFile[] {
  const dir = join(runStateDir(env), "runs");
  try {
    lstatSync(dir);
  } catch {
    return [];
  }
  checkPrivateDir(runStateDir(env));
  checkPrivateDir(dir);
  const runs: RunFile[] = [];
  for (const name of readdirSync(dir)) {
    try {
      const run = JSON.parse(readOwnFile(join(dir, name))) as RunFile;
      process.kill(run.pid, 0);
      runs.push(run);
    } catch {
      // A run that died without cleaning up, a torn file, or not our file: not a live run.
    }
  }
  return runs;
}

/**
 * makePrivateDir creates `dir` and the run-state root above it (mode 0700) and checks both are
 * this user's alone; missing parents further up get ordinary permissions (the embedded Postgres
 * runs as another user and must still reach the data directory beside them).
 */
export function makePrivateDir(dir: string): void {
  const root = dirname(dir);
  mkdirSync(dirname(root), { recursive: true });
  for (const d of [root, dir]) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    checkPrivateDir(d);
  }
}

/** checkPrivateDir throws unless `dir` is a real directory of this user with mode 0700. */
export function checkPrivateDir(dir: string): void {
  const st = lstatSync(dir);
  const uid = currentUid();
  const problem = !st.isDirectory()
    ? "is not a directory (a symlink or a file)"
    : st.uid !== uid
      ? `is owned by uid ${st.uid}, not by this user (uid ${uid})`
      : (st.mode & 0o077) !== 0
        ? `has mode ${(st.mode & 0o777).toString(8)}, not 700`
        : "";
  if (problem) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${dir} ${problem}: refused, another user could read or replace what tradepipe keeps there; remove it or set TRADEPIPE_DATA_DIR`,
    );
  }
}

/**
 * runStateDir: `$TRADEPIPE_DATA_DIR/run`, else `$XDG_RUNTIME_DIR/tradepipe` (the per-user
 * runtime directory), else `run/` in the user's data directory. Never /tmp.
 */
export function runStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRADEPIPE_DATA_DIR) return join(env.TRADEPIPE_DATA_DIR, "run");
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "tradepipe");
  return join(dirname(defaultDataDir(env, homedir(), currentUid())), "run");
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}
