/**
 * tradepipe new strategy NAME [--dir DIR]: writes a working strategy template, its test and a
 * pipeline that runs it (services/signal-bridge/strategy-template.ts).
 */
import { parseArgs } from "node:util";
import { isTradepipeError } from "../../services/core/errors.ts";
import { writeStrategyTemplate } from "../../services/signal-bridge/strategy-template.ts";

const USAGE = `usage: tradepipe new strategy NAME [--dir DIR]

  writes DIR/NAME.ts (the strategy), DIR/NAME.test.ts (its test) and DIR/NAME.pipeline.yaml
  (a pipeline running it beside the built-in strategy); DIR defaults to ./strategies
`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: "string", default: "strategies" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [kind, name, ...extra] = positionals;
  if (kind !== "strategy" || name === undefined || extra.length > 0) {
    process.stderr.write(`tradepipe new: expected "strategy NAME"\n\n${USAGE}`);
    return 2;
  }
  try {
    const f = writeStrategyTemplate(name, values.dir);
    process.stdout.write(
      `wrote ${f.strategy}\n      ${f.test}\n      ${f.pipeline}\n\n` +
        `test it:      npm test -- ${f.test}\n` +
        `backtest it:  npx tradepipe backtest -f ${f.pipeline} --data DATA --from DATE --to DATE --out DIR\n` +
        `              (DATA: a catalog from \`tradepipe data fetch\`; see services/backtest/README.md)\n` +
        `run it:       npx tradepipe run -f ${f.pipeline} --duration 120\n` +
        `(in a pipeline: spec.strategies: [{ id: ${name}, module: ${f.module} }])\n`,
    );
    return 0;
  } catch (err) {
    if (isTradepipeError(err, "TP_ERR_CONFIG")) {
      process.stderr.write(`tradepipe new: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
