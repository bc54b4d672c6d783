/**
 * tradepipe run [-f pipeline.yaml] [--fused] [--duration SECONDS]: runs a TradingPipeline on
 * this machine (see services/pipeline/local-run.ts for what it starts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isTradepipeError } from "../../services/core/errors.ts";
import { InvalidSpecError, loadPipelineFile } from "../../services/core/spec/index.ts";
import { runLocal } from "../../services/pipeline/local-run.ts";
import { DECISIONS_FILE } from "../../services/signal-bridge/decision-log.ts";
import { loadStrategies } from "../../services/signal-bridge/strategy-loader.ts";

export const DEFAULT_PIPELINE_FILE = fileURLToPath(
  new URL("../../config/pipeline.yaml", import.meta.url),
);

const USAGE = `usage: tradepipe run [-f pipeline.yaml] [--fused | --bus zmq|uds] [--duration SECONDS] [--record DIR]

  -f, --file       the TradingPipeline to run (default config/pipeline.yaml)
      --fused      run all five stages in this process over the in-process bus
      --bus        transport between stage processes: zmq (ZeroMQ ipc://, default) or uds
                   (tradepipe's Unix-socket transport, the lowest-latency multi-process option)
      --duration   stop by itself after this many seconds (default: run until Ctrl-C)
      --record     record the session into DIR: market data as the market-data stage receives
                   it (catalog partitions, written at stop) and the signal-bridge's decisions
                   (decisions.csv); \`tradepipe backtest -f SPEC --replay DIR\` replays it
      --metrics-port  first /health, /ready, /metrics port (default spec.observability.metricsPort;
                   stage processes take the next ones in pipeline order; 0 picks free ports)
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: "string", short: "f" },
      fused: { type: "boolean", default: false },
      duration: { type: "string" },
      bus: { type: "string", default: "zmq" },
      "metrics-port": { type: "string" },
      record: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const durationSeconds = values.duration === undefined ? 0 : Number(values.duration);
  if (!Number.isFinite(durationSeconds) || durationSeconds < 0) {
    process.stderr.write(`tradepipe run: --duration must be a number of seconds >= 0\n\n${USAGE}`);
    return 2;
  }
  if (values.bus !== "zmq" && values.bus !== "uds") {
    process.stderr.write(
      `tradepipe run: --bus must be zmq or uds, not "${values.bus}"\n\n${USAGE}`,
    );
    return 2;
  }
  const transport = values.bus;
  const metricsPort =
    values["metrics-port"] === undefined ? undefined : Number(values["metrics-port"]);
  if (
    metricsPort !== undefined &&
    !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)
  ) {
    process.stderr.write(
      `tradepipe run: --metrics-port must be a port number (0 for free ports)\n\n${USAGE}`,
    );
    return 2;
  }
  if (
    values.record !== undefined &&
    ["recording.json", DECISIONS_FILE].some((f) => existsSync(join(values.record!, f)))
  ) {
    // One session per directory: the stages append decisions and rewrite the market data.
    process.stderr.write(`tradepipe run: --record ${values.record} already holds a recording\n`);
    return 2;
  }
  const specFile = values.file ?? DEFAULT_PIPELINE_FILE;
  let pipeline: Awaited<ReturnType<typeof loadPipelineFile>>;
  try {
    pipeline = await loadPipelineFile(specFile);
  } catch (err) {
    if (err instanceof InvalidSpecError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  try {
    // Strategy modules and their parameters are checked here, before anything starts, and
    // again by the signal-bridge at its start (systemd units and pods have no `run`).
    await loadStrategies(pipeline.spec);
  } catch (err) {
    if (isTradepipeError(err, "TP_ERR_CONFIG")) {
      process.stderr.write(`tradepipe run: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const summary = await runLocal({
    pipeline,
    specFile,
    fused: values.fused,
    transport,
    durationSeconds,
    ...(values.record === undefined ? {} : { recordDir: values.record }),
    ...(metricsPort === undefined ? {} : { healthPort: metricsPort }),
  });
  process.stdout.write(
    `tradepipe run: ${summary.stoppedBecause}; ${summary.ordersSent} orders sent, ${summary.fills} fills\n`,
  );
  return summary.stoppedBecause.startsWith("stopped:") ? 1 : 0;
}
