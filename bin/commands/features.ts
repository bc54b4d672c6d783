/**
 * `tradepipe features -f SPEC --data DIR --from DATE --to DATE --out DIR`: a training dataset
 * from the backtest catalog, computed by the signal-bridge's own feature code
 * (services/signal-bridge/strategy/feature-dataset.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { catalogSource } from "../../services/backtest/catalog/catalog.ts";
import { parseDate } from "../../services/backtest/catalog/layout.ts";
import { writeParquet } from "../../services/backtest/catalog/parquet.ts";
import { toNumber } from "../../services/core/money.ts";
import { featureDefinitionHash } from "../../services/signal-bridge/model-contract.ts";
import {
  FeatureDatasetBuilder,
  parseFeatureSpec,
} from "../../services/signal-bridge/strategy/feature-dataset.ts";
import { parseCommand, SPEC_CATALOG_RANGE } from "./args.ts";

const USAGE = `usage: tradepipe features -f SPEC --data DIR --from DATE --to DATE --out DIR

Replays the catalog's quotes and trades (tradepipe data fetch) through the signal-bridge's feature
code and writes DIR/features.parquet (event_ns, label_end_ns, symbol, mid, one float32-valued
column per feature in the spec's order, forward_return, label[, barrier_label]) and
DIR/dataset.json (feature names, feature-definition hash, spec) for tradepipe train.

  -f, --file SPEC        feature set: symbols, features, label { horizonSeconds, barrierBps }
  --data DIR             the catalog directory
  --from DATE --to DATE  New York dates (YYYY-MM-DD, both included)
  --out DIR              where the dataset goes (created)
`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(
    "features",
    USAGE,
    argv,
    {
      ...SPEC_CATALOG_RANGE,
      out: { type: "string" },
    },
    ["file", "data", "from", "to", "out"],
  );
  if (typeof args === "number") return args;
  const v = { file: args.need("file"), data: args.need("data"), out: args.need("out") };
  const started = Date.now();
  const spec = parseFeatureSpec(readFileSync(v.file, "utf8"), v.file);
  const from = parseDate(args.need("from"), "--from");
  const to = parseDate(args.need("to"), "--to");
  const builder = new FeatureDatasetBuilder(spec);
  let events = 0;
  for await (const batch of catalogSource({
    dir: v.data,
    symbols: spec.symbols,
    from,
    to,
  })) {
    for (const r of batch) {
      events++;
      if (r.kind === "quote") {
        builder.add({
          kind: "quote",
          symbol: r.symbol,
          timeNs: r.exchangeNs,
          bidPrice: toNumber(r.bidPrice),
          bidSize: toNumber(r.bidSize),
          askPrice: toNumber(r.askPrice),
          askSize: toNumber(r.askSize),
        });
      } else {
        builder.add({
          kind: "trade",
          symbol: r.symbol,
          timeNs: r.exchangeNs,
          price: toNumber(r.price),
          size: toNumber(r.size),
        });
      }
    }
  }
  const ds = builder.finish();
  const out = v.out;
  mkdirSync(out, { recursive: true });
  const hash = featureDefinitionHash(spec.features);
  writeParquet(
    join(out, "features.parquet"),
    [
      { name: "event_ns", type: "INT64", data: ds.eventNs },
      { name: "label_end_ns", type: "INT64", data: ds.labelEndNs },
      { name: "symbol", type: "STRING", data: ds.symbol },
      { name: "mid", type: "DOUBLE", data: ds.mid },
      ...ds.featureNames.map((name, j) => ({
        name,
        type: "DOUBLE" as const,
        data: ds.features[j]!,
      })),
      { name: "forward_return", type: "DOUBLE", data: ds.forwardReturn },
      { name: "label", type: "INT32", data: ds.label },
      ...(ds.barrierLabel
        ? [{ name: "barrier_label", type: "INT32" as const, data: ds.barrierLabel }]
        : []),
    ],
    { feature_names: ds.featureNames.join(","), feature_hash: hash },
  );
  writeFileSync(
    join(out, "dataset.json"),
    `${JSON.stringify({ feature_names: ds.featureNames, feature_hash: hash, from, to, spec }, null, 2)}\n`,
  );
  process.stdout.write(
    `features: ${events} events → ${ds.eventNs.length} rows × ${ds.featureNames.length} features in ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  return 0;
}
