/**
 * `tradepipe data fetch -f spec.yaml --from DATE --to DATE [--symbols A,B] --data DIR`: fills
 * the backtest catalog (services/backtest/catalog) from Alpaca's historical market-data API at
 * the spec's broker.historicalDataUrl (or --data-url, e.g. a simulator's URL).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Credentials, loadCredentials } from "../../services/alpaca-client/credentials.ts";
import {
  CATALOG_KINDS,
  type FetchableKind,
  parseDate,
} from "../../services/backtest/catalog/layout.ts";
import { fetchHistory } from "../../services/backtest/fetch.ts";
import { DEV_KEYS } from "../../services/broker-sim/index.ts";
import { loadPipelineFile } from "../../services/core/spec/index.ts";

const USAGE = `usage: tradepipe data fetch -f SPEC --from DATE --to DATE --data DIR [options]

Downloads quotes, trades and one-minute bars for the spec's symbols (or --symbols) from Alpaca's
historical market-data API into a Parquet catalog: DIR/<kind>/symbol=<S>/date=<YYYY-MM-DD>.parquet
(dates in New York time). Existing partitions of the same dates are replaced.

  -f, --file SPEC     the TradingPipeline spec (symbols, broker.historicalDataUrl, dataFeed)
  --from DATE         first date (YYYY-MM-DD, New York)
  --to DATE           last date, included
  --data DIR          the catalog directory (created when missing)
  --symbols A,B       symbols instead of the spec's
  --kinds K,K         quotes, trades, bars (default all three)
  --data-url URL      the API's base URL instead of the spec's (e.g. a simulator's)

Keys: APCA_API_KEY_ID and APCA_API_SECRET_KEY (or TRADEPIPE_BROKER_SECRET_DIR); with a simulator
spec and no keys set, the simulator's development keys.
`;

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "-h" || sub === "--help" || sub === undefined) {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "fetch") {
    process.stderr.write(`tradepipe data: unknown subcommand "${sub}"\n\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: "string", short: "f" },
        from: { type: "string" },
        to: { type: "string" },
        data: { type: "string" },
        symbols: { type: "string" },
        kinds: { type: "string" },
        "data-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    for (const required of ["file", "from", "to", "data"]) {
      if (typeof values[required] !== "string") throw new Error(`--${required} is required`);
    }
  } catch (err) {
    process.stderr.write(`tradepipe data fetch: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const from = parseDate(values.from as string, "--from");
  const to = parseDate(values.to as string, "--to");
  if (to < from) throw new Error(`--to ${to} is before --from ${from}`);
  const pipeline = await loadPipelineFile(values.file as string);
  const spec = pipeline.spec;
  const symbols =
    typeof values.symbols === "string"
      ? values.symbols.split(",").map((s) => s.trim().toUpperCase())
      : spec.symbols;
  const kinds =
    typeof values.kinds === "string" ? values.kinds.split(",").map((k) => k.trim()) : CATALOG_KINDS;
  for (const k of kinds) {
    if (!CATALOG_KINDS.includes(k as FetchableKind))
      throw new Error(`--kinds: unknown kind "${k}" (quotes, trades, bars)`);
  }
  const env = process.env;
  const haveKeys = env.APCA_API_KEY_ID || env.TRADEPIPE_BROKER_SECRET_DIR;
  const credentials =
    !haveKeys && spec.broker.kind === "simulator"
      ? new Credentials(DEV_KEYS.keyId, DEV_KEYS.secretKey, "simulator development keys")
      : loadCredentials({
          env,
          ...(env.TRADEPIPE_BROKER_SECRET_DIR
            ? { secretDir: env.TRADEPIPE_BROKER_SECRET_DIR }
            : {}),
        });
  const dataUrl = (
    typeof values["data-url"] === "string" ? values["data-url"] : spec.broker.historicalDataUrl
  ).replace(/\/+$/, "");
  const dir = resolve(values.data as string);
  process.stdout.write(
    `fetching ${kinds.join(", ")} of ${symbols.join(", ")} from ${dataUrl}, ${from} to ${to}, into ${dir}\n`,
  );
  const summary = await fetchHistory({
    dataUrl,
    credentials,
    ...(spec.broker.dataFeed === "test" ? {} : { feed: spec.broker.dataFeed }),
    symbols,
    from,
    to,
    dir,
    kinds: kinds as FetchableKind[],
    onFile: (path, rows) => process.stdout.write(`  ${path}: ${rows} rows\n`),
  });
  process.stdout.write(
    `${summary.files} files: ${summary.rows.quotes} quotes, ${summary.rows.trades} trades, ${summary.rows.bars} bars\n`,
  );
  return 0;
}
