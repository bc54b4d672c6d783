#!/usr/bin/env node
/**
 * tradepipe: the one CLI. Each subcommand lives in bin/commands/<name>.ts and exports
 * `main(argv): Promise<number>` (the exit code); this file only dispatches, so a subcommand's
 * dependencies load only when it runs.
 */
import { existsSync } from "node:fs";

const COMMANDS: Record<string, string> = {
  run: "Run a TradingPipeline locally (embedded Postgres + simulator by default).",
  sim: "Start the Alpaca-compatible paper broker and market-data simulator.",
  validate: "Validate a TradingPipeline spec and print every error with its path.",
  migrate: "Apply the database migrations (DATABASE_URL or the embedded Postgres).",
  "kill-switch": "Engage or release the kill switch: tradepipe kill-switch on|off.",
  pause: "Pause or resume new orders (open orders keep working): tradepipe pause on|off.",
  stage: "Run one pipeline stage (used by the supervisor, systemd units and pods).",
  operator: "Run the Kubernetes operator.",
  render: "Render deployment files from a spec: tradepipe render systemd -f spec -o dir.",
  certs: "Make the database's CA and server certificates: tradepipe certs ca|server (bare metal).",
  new: "Start a strategy from a working template: tradepipe new strategy NAME.",
  report: "Write equity, drawdown and P&L pictures (SVG, PNG) and report.md from the database.",
  backtest:
    "Run the pipeline's cores on history: tradepipe backtest -f spec --data DIR --from --to.",
  dashboard: "Serve the live trading dashboard in the browser: tradepipe dashboard [-f spec].",
  data: "Fill the backtest's Parquet catalog from Alpaca's historical API: tradepipe data fetch.",
  features:
    "Write a training dataset (Parquet) from the catalog: tradepipe features -f spec --data DIR.",
  train: "Train and export a signal model from a dataset: tradepipe train --dataset DIR.",
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(width)}  ${d}`);
  return `usage: tradepipe <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (!(name in COMMANDS)) {
    process.stderr.write(`tradepipe: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const file = new URL(`./commands/${name}.ts`, import.meta.url);
  if (!existsSync(file)) {
    process.stderr.write(`tradepipe: "${name}" is not available in this build\n`);
    return 2;
  }
  const mod = (await import(file.href)) as { main: (argv: string[]) => Promise<number> };
  return mod.main(rest);
}

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(
      `tradepipe: ${e?.code ? `${e.code}: ` : ""}${e?.message ?? String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
