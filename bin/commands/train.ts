/**
 * `tradepipe train -f SPEC --dataset DIR [--out DIR] [--storage URL ...]`: runs the research
 * project's trainer (research/tradepipe_research/train.py) in its pinned venv on a dataset made by
 * `tradepipe features`, printing each step and its duration, and the content-addressed model path.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommand } from "./args.ts";

const RESEARCH = fileURLToPath(new URL("../../research/", import.meta.url));

const USAGE = `usage: tradepipe train [-f SPEC] --dataset DIR [--out DIR] [options]

Trains a LightGBM signal model (and a logistic baseline) on a dataset from tradepipe features:
purged, embargoed walk-forward cross-validation, optional Optuna tuning with its study in
Postgres, refit, ONNX export with its metadata (feature names and hash, golden rows, metrics),
written as OUT/<sha256 prefix>.onnx. The first run builds the research venv (research/setup.sh).

  -f, --file SPEC     the feature spec the dataset was made with (checked to exist; its features
                      are recorded in the dataset's dataset.json)
  --dataset DIR       the dataset directory (features.parquet, dataset.json)
  --out DIR           where the model goes (default config/models)
  --splits N          walk-forward folds (default 5)
  --embargo-s S       embargo after each test block, seconds (default 60)
  --rounds N          boosting rounds (default 200)
  --storage URL       Optuna storage, e.g. postgresql+psycopg://user:pw@host/db (tunes when given)
  --study NAME        Optuna study name (default tradepipe-signal)
  --trials N          trials this worker runs (default 20)
`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(
    "train",
    USAGE,
    argv,
    {
      file: { type: "string", short: "f" },
      dataset: { type: "string" },
      out: { type: "string" },
      splits: { type: "string" },
      "embargo-s": { type: "string" },
      rounds: { type: "string" },
      storage: { type: "string" },
      study: { type: "string" },
      trials: { type: "string" },
    },
    ["dataset"],
  );
  if (typeof args === "number") return args;
  const v = { file: args.str("file"), dataset: args.need("dataset"), out: args.str("out") };
  if (typeof v.file === "string" && !existsSync(v.file)) {
    process.stderr.write(`tradepipe train: spec ${v.file} does not exist\n`);
    return 2;
  }
  const started = Date.now();
  process.stderr.write("train: research venv (research/setup.sh; built once per lock file)\n");
  const setup = spawnSync(`${RESEARCH}setup.sh`, [], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (setup.status !== 0) {
    process.stderr.write("tradepipe train: research/setup.sh failed\n");
    return 1;
  }
  const venv = setup.stdout.trim().split("\n").at(-1)!;
  const pythonArgs = [
    "-m",
    "tradepipe_research.train",
    "--dataset",
    resolve(v.dataset),
    "--out",
    resolve(v.out ?? "config/models"),
  ];
  for (const k of ["splits", "embargo-s", "rounds", "storage", "study", "trials"] as const) {
    const value = args.str(k);
    if (value !== undefined) pythonArgs.push(`--${k}`, value);
  }
  const run = spawnSync(`${venv}/bin/python`, pythonArgs, { cwd: RESEARCH, stdio: "inherit" });
  process.stderr.write(`train: finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return run.status ?? 1;
}
