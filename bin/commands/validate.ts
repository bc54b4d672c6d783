/**
 * `tradepipe validate [-f file] [--print] [--sectors file]`: checks a TradingPipeline manifest.
 * Prints "OK" and a summary, or every `path: message` line and exits 1. `--print` writes the
 * complete manifest with every default filled in.
 */
import { existsSync } from "node:fs";
import { text } from "node:stream/consumers";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { isTradepipeError } from "../../services/core/errors.ts";
import {
  formatErrors,
  loadSectorMap,
  type ParseResult,
  parsePipeline,
  readPipelineFile,
  STAGE_NAMES,
  symbolsWithoutSector,
  type TradingPipeline,
} from "../../services/core/spec/index.ts";
import { loadStrategies } from "../../services/signal-bridge/strategy-loader.ts";

const DEFAULT_FILE = "config/pipeline.yaml";
const DEFAULT_SECTORS = "config/sectors.yaml";
const USAGE = `usage: tradepipe validate [-f FILE|-] [--print] [--sectors FILE]

  -f, --file FILE    manifest to check (default ${DEFAULT_FILE}; - reads standard input)
  --print            print the manifest with every default filled in
  --sectors FILE     sector map to check the symbols against (default ${DEFAULT_SECTORS})
`;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`tradepipe validate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const file = args.file ?? DEFAULT_FILE;
  const result: ParseResult =
    file === "-" ? parsePipeline(await text(process.stdin)) : await readPipelineFile(file);
  if (!result.ok) {
    process.stderr.write(`${formatErrors(result.errors)}\n`);
    const n = result.errors.length;
    process.stderr.write(`${file}: ${n} error${n === 1 ? "" : "s"}\n`);
    return 1;
  }
  try {
    // The strategies' modules and parameters, as the signal-bridge will check them at start.
    await loadStrategies(result.pipeline.spec);
  } catch (err) {
    if (!isTradepipeError(err, "TP_ERR_CONFIG")) throw err;
    process.stderr.write(`${err.message}\n${file}: 1 error\n`);
    return 1;
  }
  const warnings = await sectorWarnings(result.pipeline, args.sectors);
  if (args.print) process.stdout.write(stringify(result.pipeline, { lineWidth: 0 }));
  else process.stdout.write(`OK ${file}\n${summary(result.pipeline)}`);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  return 0;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: "string", short: "f" },
      print: { type: "boolean", default: false },
      sectors: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return values;
}

async function sectorWarnings(pipeline: TradingPipeline, explicit?: string): Promise<string[]> {
  const path = explicit ?? DEFAULT_SECTORS;
  if (!explicit && !existsSync(path)) return [];
  const sectors = await loadSectorMap(path);
  if (!sectors.ok) return sectors.errors.map((e) => `${path}: ${e.path}: ${e.message}`);
  const missing = symbolsWithoutSector(pipeline.spec.symbols, sectors.sectors);
  return missing.length === 0
    ? []
    : [`no sector in ${path} for ${missing.join(", ")}: the sector limit can't group them`];
}

/** summary is the few lines a person checks before running a pipeline. */
export function summary(p: TradingPipeline): string {
  const s = p.spec;
  const stages = STAGE_NAMES.map((n) => s.stages[n]);
  const cpus = stages.reduce((sum, st) => sum + st.resources.cpu * st.replicas, 0);
  const replicas = [...new Set(stages.map((st) => st.replicas))].join("/");
  const broker =
    s.broker.kind === "simulator"
      ? `simulator (seed ${s.broker.simulator.seed}, speed ${s.broker.simulator.speed}x)`
      : `alpaca ${s.broker.tradingUrl} (feed ${s.broker.dataFeed}, keys from ${s.broker.credentialsSecretRef?.name})`;
  const rows: [string, string][] = [
    ["pipeline", p.metadata.name],
    ["broker", broker],
    ["symbols", s.symbols.join(", ")],
    [
      "stages",
      `${stages.length} stages x ${replicas} replicas, ${cpus} CPUs, topology ${s.placement.topology}`,
    ],
    [
      "risk",
      `${s.risk.maxPositionShares} shares/symbol, $${s.risk.maxNotionalPerSymbol}/symbol, ${s.risk.maxOpenPositions} positions, daily loss $${s.risk.maxDailyLoss}, VaR99 $${s.risk.maxVar99}`,
    ],
    [
      "database",
      `${s.database.instances} instance${s.database.instances === 1 ? "" : "s"}, ${s.database.synchronous ? "synchronous" : "asynchronous"}, ${s.database.storage}`,
    ],
    ["killSwitch", s.killSwitch ? "ENGAGED: no orders will be sent" : "off"],
  ];
  return rows.map(([k, v]) => `  ${k.padEnd(10)}  ${v}\n`).join("");
}
