/**
 * `tradepipe report [--out DIR] [--since ISO] [--data-dir DIR] [--pid PID]`: pictures and figures
 * of a pipeline's trading from its database (services/report): equity.svg/png with the
 * drawdown, pnl-by-symbol.svg/png, and report.md.
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultDataDir } from "../../services/core/db/embedded-paths.ts";
import { openReportDatabase } from "../../services/report/database.ts";
import { usd, writeReport } from "../../services/report/index.ts";

const USAGE = `usage: tradepipe report [--out DIR] [--since ISO] [--data-dir DIR] [--pid PID]

Writes equity.svg/.png (equity or P&L curve and its drawdown), pnl-by-symbol.svg/.png and
report.md (total P&L, max drawdown, orders, fills, win rate) into DIR (default ./report).

Reads DATABASE_URL when set; else the database of the \`tradepipe run\` running on this machine
(--pid picks one of several); else the embedded Postgres the last run left in its data
directory, started for the report and stopped after. Data directory:
${defaultDataDir(process.env, homedir(), process.getuid?.() ?? -1)} (TRADEPIPE_DATA_DIR, --data-dir).

  --out DIR        output directory (created when missing; files in it are replaced)
  --since ISO      only orders, fills and snapshots from this instant (e.g. 2026-01-05T14:30Z)
  --data-dir DIR   embedded Postgres data directory to read (ignored with DATABASE_URL)
  --pid PID        the live \`tradepipe run\` to read when several are running
`;

export async function main(argv: string[]): Promise<number> {
  let values: { out?: string; since?: string; "data-dir"?: string; pid?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: "string" },
        since: { type: "string" },
        "data-dir": { type: "string" },
        pid: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`tradepipe report: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  if (since !== undefined && Number.isNaN(since)) {
    process.stderr.write(
      `tradepipe report: --since: "${values.since}" is not an ISO 8601 instant (e.g. 2026-01-05T14:30:00Z)\n`,
    );
    return 2;
  }
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) {
    process.stderr.write(`tradepipe report: --pid: "${values.pid}" is not a process id\n`);
    return 2;
  }
  const outDir = resolve(values.out ?? "report");
  const db = await openReportDatabase({
    ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
    ...(pid === undefined ? {} : { pid }),
  });
  try {
    const { report, files } = await writeReport(db.pool, {
      outDir,
      databaseLabel: db.label,
      ...(since === undefined ? {} : { since }),
    });
    const f = report.figures;
    process.stdout.write(`database: ${db.label}\n`);
    process.stdout.write(
      `total P&L ${usd(f.pnl.total)} USD; max drawdown ${usd(f.maxDrawdown.amount)} USD` +
        `${f.maxDrawdown.pct === null ? "" : ` (${f.maxDrawdown.pct.toFixed(2)}%)`}; ` +
        `${f.orders.total} orders, ${f.fills.total} fills` +
        `${f.trades.winRate === null ? "" : `, win rate ${(f.trades.winRate * 100).toFixed(1)}%`}\n`,
    );
    for (const file of files) process.stdout.write(`wrote ${file}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
