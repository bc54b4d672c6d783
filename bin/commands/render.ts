/**
 * tradepipe render systemd -f pipeline.yaml -o DIR: renders the pipeline's systemd units
 * (see native-deploy/README.md). An invalid spec prints every error and writes nothing.
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { CpuPlanError } from "../../native-deploy/cpu-plan.ts";
import { parseHosts, validateTopology } from "../../native-deploy/patroni-config.ts";
import { type RenderOptions, renderSystemd } from "../../native-deploy/render.ts";
import { InvalidSpecError, loadPipelineFile } from "../../services/core/spec/index.ts";
import { parseCommand } from "./args.ts";

const USAGE = `usage: tradepipe render systemd -f pipeline.yaml -o DIR [options]

  -f, --file        the TradingPipeline (required)
  -o, --out         directory for the units (e.g. /etc/systemd/system)
      --prefix      where tradepipe is installed (default /opt/tradepipe)
      --config-dir  the pipeline's config directory (default /etc/tradepipe/<name>)
      --user        system user of the stages (default tradepipe)
      --db-ca-file  the database server's CA certificate the stages verify it with
                    (default <config-dir>/credentials/database-ca.crt)
      --first-cpu   first CPU given to a stage (default 1; CPU 0 stays with the OS)
      --host-cpus   CPUs on the target host; refuse a plan that does not fit

  The database tier (Patroni + etcd, see native-deploy/README.md), written per host:
      --ha-out      directory for the per-host trees (DIR/<host>/etc/...)
      --db-hosts    Postgres hosts running Patroni: name=address,name=address
      --etcd-hosts  etcd voters (an odd number, e.g. both db hosts and a witness)
      --pg-bin-dir  Postgres binaries on the db hosts (default /usr/lib/postgresql/17/bin)
      --patroni-bin patroni executable (default /usr/bin/patroni, Debian's package)
      --etcd-bin    etcd executable (default /usr/bin/etcd, Debian's etcd-server)
      --db-tls-dir  each Postgres host's server.crt, server.key and ca.crt
                    (default /etc/patroni/tradepipe-<name>-tls; tradepipe certs server)
`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand("render", USAGE, argv, RENDER_OPTIONS, ["file", "out"], ["systemd"]);
  if (typeof args === "number") return args;
  const values = args.values as RenderValues;
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new CpuPlanError(`--${name} must be a whole number >= 0`);
    return n;
  };
  try {
    const pipeline = await loadPipelineFile(values.file);
    const firstCpu = int("first-cpu", values["first-cpu"]);
    const hostCpus = int("host-cpus", values["host-cpus"]);
    const ha = haOptions(values);
    const result = renderSystemd(pipeline, {
      ...(ha ? { ha } : {}),
      outDir: values.out,
      ...(values.prefix ? { prefix: values.prefix } : {}),
      ...(values["config-dir"] ? { configDir: values["config-dir"] } : {}),
      ...(values["db-ca-file"] ? { databaseCaFile: values["db-ca-file"] } : {}),
      ...(values.user ? { user: values.user } : {}),
      ...(firstCpu !== undefined ? { firstCpu } : {}),
      ...(hostCpus !== undefined ? { hostCpus } : {}),
    });
    for (const f of result.created) process.stdout.write(`created   ${f}\n`);
    for (const f of result.updated) process.stdout.write(`updated   ${f}\n`);
    for (const f of result.unchanged) process.stdout.write(`unchanged ${f}\n`);
    return 0;
  } catch (err) {
    if (
      err instanceof InvalidSpecError ||
      err instanceof CpuPlanError ||
      err instanceof HaFlagError
    ) {
      process.stderr.write(`${err.message}\nnothing written\n`);
      return 1;
    }
    throw err;
  }
}

const RENDER_OPTIONS = {
  file: { type: "string", short: "f" },
  out: { type: "string", short: "o" },
  prefix: { type: "string" },
  "config-dir": { type: "string" },
  user: { type: "string" },
  "first-cpu": { type: "string" },
  "host-cpus": { type: "string" },
  "ha-out": { type: "string" },
  "db-hosts": { type: "string" },
  "etcd-hosts": { type: "string" },
  "pg-bin-dir": { type: "string" },
  "patroni-bin": { type: "string" },
  "etcd-bin": { type: "string" },
  "db-ca-file": { type: "string" },
  "db-tls-dir": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** RenderValues: the parsed options (every one a string; file and out checked present). */
type RenderValues = Partial<Record<keyof typeof RENDER_OPTIONS, string>> & {
  file: string;
  out: string;
};

class HaFlagError extends Error {}

/** haOptions reads the database-tier flags: all of --ha-out, --db-hosts, --etcd-hosts or none. */
function haOptions(values: RenderValues): RenderOptions["ha"] {
  const given = [values["ha-out"], values["db-hosts"], values["etcd-hosts"]];
  if (given.every((v) => v === undefined)) return undefined;
  if (given.some((v) => v === undefined))
    throw new HaFlagError("--ha-out, --db-hosts and --etcd-hosts go together");
  try {
    const topology = {
      dbHosts: parseHosts("db-hosts", values["db-hosts"]!),
      etcdHosts: parseHosts("etcd-hosts", values["etcd-hosts"]!),
      pgBinDir: values["pg-bin-dir"] ?? "/usr/lib/postgresql/17/bin",
      ...(values["db-tls-dir"] ? { tlsDir: values["db-tls-dir"] } : {}),
    };
    validateTopology(topology);
    return {
      topology,
      outDir: values["ha-out"]!,
      patroniBin: values["patroni-bin"] ?? "/usr/bin/patroni",
      etcdBin: values["etcd-bin"] ?? "/usr/bin/etcd",
    };
  } catch (err) {
    throw new HaFlagError((err as Error).message);
  }
}
