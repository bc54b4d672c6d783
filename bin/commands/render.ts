/**
 * tradepipe render systemd -f pipeline.yaml -o DIR: renders the pipeline's systemd units
 * (see native-deploy/README.md). An invalid spec prints every error and writes nothing.
 */
import { parseArgs } from "node:util";
import { CpuPlanError } from "../../native-deploy/cpu-plan.ts";
import { renderSystemd } from "../../native-deploy/render.ts";
import { InvalidSpecError, loadPipelineFile } from "../../services/core/spec/index.ts";

const USAGE = `usage: tradepipe render systemd -f pipeline.yaml -o DIR [options]

  -f, --file        the TradingPipeline (required)
  -o, --out         directory for the units (e.g. /etc/systemd/system)
      --prefix      where tradepipe is installed (default /opt/tradepipe)
      --config-dir  the pipeline's config directory (default /etc/tradepipe/<name>)
      --user        system user of the stages (default tradepipe)
      --first-cpu   first CPU given to a stage (default 1; CPU 0 stays with the OS)
      --host-cpus   CPUs on the target host; refuse a plan that does not fit
`;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`tradepipe render: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] !== "systemd" || !values.file || !values.out) {
    process.stderr.write(`tradepipe render: say what and where\n\n${USAGE}`);
    return 2;
  }
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
    const result = renderSystemd(pipeline, {
      outDir: values.out,
      ...(values.prefix ? { prefix: values.prefix } : {}),
      ...(values["config-dir"] ? { configDir: values["config-dir"] } : {}),
      ...(values.user ? { user: values.user } : {}),
      ...(firstCpu !== undefined ? { firstCpu } : {}),
      ...(hostCpus !== undefined ? { hostCpus } : {}),
    });
    for (const f of result.created) process.stdout.write(`created   ${f}\n`);
    for (const f of result.updated) process.stdout.write(`updated   ${f}\n`);
    for (const f of result.unchanged) process.stdout.write(`unchanged ${f}\n`);
    return 0;
  } catch (err) {
    if (err instanceof InvalidSpecError || err instanceof CpuPlanError) {
      process.stderr.write(`${err.message}\nnothing written\n`);
      return 1;
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      file: { type: "string", short: "f" },
      out: { type: "string", short: "o" },
      prefix: { type: "string" },
      "config-dir": { type: "string" },
      user: { type: "string" },
      "first-cpu": { type: "string" },
      "host-cpus": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
