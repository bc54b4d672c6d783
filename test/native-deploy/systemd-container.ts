/**
 * systemd-container boots a real systemd (PID 1 of its own namespaces) in systemd-nspawn, on a
 * copy-on-write view of this machine's root filesystem, so the generated units can be installed
 * and run as an SRE would run them. These machines have no systemd as PID 1.
 *
 * The root is an overlay: this machine's / underneath, a tmpfs on top in a mount namespace of its
 * own, so everything the container writes (users, /etc, /opt, journals, its boot-time tmpfiles
 * clean-up) lands in memory and vanishes with it. IMPORTANT: never boot systemd on the shared
 * root itself: its boot-time `systemd-tmpfiles --remove` empties the machine's /tmp.
 * The container shares the host's network, so it reaches Postgres and the simulator on
 * 127.0.0.1. It boots to basic.target only: none of the machine's own services start.
 */
import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface ContainerExit {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SystemdContainer {
  /** PID (on this machine) of the container's systemd. */
  leader: number;
  /** exec runs a command inside the container (all its namespaces) as root. */
  exec(argv: string[], timeoutMs?: number): Promise<ContainerExit>;
  /** Powers the container off (or kills it) and waits for it to end. */
  stop(): Promise<void>;
  /** What nspawn and the container's console printed. */
  output(): string;
}

export interface BootOptions {
  /** Machine name (unique on this host). */
  name: string;
  /** Directory for the overlay's mount points (created; left empty afterwards). */
  workDir: string;
  /** Host directories bound read-only into the container: [host, container]. */
  bindReadOnly?: Array<[string, string]>;
  timeoutMs?: number;
}

const BOOT_SCRIPT = `
set -euo pipefail
work="$1"; shift
mount --make-rprivate /
mkdir -p "$work/rw" "$work/root"
mount -t tmpfs -o size=6g,mode=0755 tmpfs "$work/rw"
mkdir -p "$work/rw/upper" "$work/rw/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/rw/upper,workdir=$work/rw/work" "$work/root"
exec systemd-nspawn -D "$work/root" "$@"
`;

export async function bootSystemdContainer(opts: BootOptions): Promise<SystemdContainer> {
  const args = [
    "-b",
    "-M",
    opts.name,
    // No machined or host systemd to register with here.
    "--register=no",
    "--keep-unit",
    "--link-journal=no",
    "--console=read-only",
    ...(opts.bindReadOnly ?? []).map(([h, c]) => `--bind-ro=${h}:${c}`),
    "--",
    "systemd.unit=basic.target",
  ];
  const child = spawn("unshare", ["-m", "bash", "-c", BOOT_SCRIPT, "boot", opts.workDir, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let ended = false;
  void exited.then(() => {
    ended = true;
  });

  const exec = (argv: string[], timeoutMs = 60_000) =>
    new Promise<ContainerExit>((resolve) => {
      execFile(
        "nsenter",
        ["-t", String(leader), "-a", ...argv],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  const stop = async () => {
    if (ended) return;
    child.kill("SIGTERM"); // nspawn powers the container off
    const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };

  let leader = 0;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  try {
    // The container's systemd is nspawn's child whose command is systemd.
    while (leader === 0) {
      if (ended) throw new Error(`systemd-nspawn ended before the container booted:\n${out}`);
      if (Date.now() > deadline) throw new Error(`the container did not start:\n${out}`);
      leader = await findChild(child.pid ?? 0, /systemd/);
      if (leader === 0) await sleep(200);
    }
    for (;;) {
      const r = await exec(["systemctl", "is-system-running"], 10_000);
      const state = r.stdout.trim();
      if (state === "running" || state === "degraded") break;
      if (ended) throw new Error(`the container ended while booting:\n${out}`);
      if (Date.now() > deadline)
        throw new Error(`the container's boot stuck in "${state}":\n${out}`);
      await sleep(300);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { leader, exec, stop, output: () => out };
}

async function findChild(pid: number, comm: RegExp): Promise<number> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  for (const c of children.split(/\s+/).filter(Boolean)) {
    const name = await readFile(`/proc/${c}/comm`, "utf8").catch(() => "");
    if (comm.test(name)) return Number(c);
  }
  return 0;
}
