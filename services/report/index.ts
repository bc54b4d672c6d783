/**
 * report: writeReport reads a pipeline's database and writes its pictures (equity and drawdown,
 * P&L by symbol; SVG and PNG) and report.md into a directory.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { svgToPng } from "../core/charts/index.ts";
import { analyzeReport, type Report } from "./analyze.ts";
import { loadReportData } from "./load.ts";
import {
  EQUITY_CHART,
  equitySvg,
  PNL_BY_SYMBOL_CHART,
  pnlBySymbolSvg,
  reportMarkdown,
} from "./render.ts";

export { analyzeReport, type Report, SPARSE_BELOW } from "./analyze.ts";
export { loadReportData, type ReportData } from "./load.ts";
export { usd } from "./render.ts";

export interface WriteReportOptions {
  outDir: string;
  /** Only what happened from this instant on (ms since the epoch). */
  since?: number;
  /** How the database is named in report.md (never with its password). */
  databaseLabel: string;
  /** The report's own timestamp (ms); default now. */
  now?: number;
}

export interface WrittenReport {
  report: Report;
  files: string[];
}

/** writeReport loads, analyzes and writes; returns the analyzed report and the files written. */
export async function writeReport(db: pg.Pool, opts: WriteReportOptions): Promise<WrittenReport> {
  const report = analyzeReport(await loadReportData(db, opts.since));
  await mkdir(opts.outDir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, content: string | Buffer) => {
    const path = join(opts.outDir, name);
    await writeFile(path, content);
    files.push(path);
  };
  for (const [name, svg] of [
    [EQUITY_CHART, equitySvg(report)],
    [PNL_BY_SYMBOL_CHART, pnlBySymbolSvg(report)],
  ] as const) {
    await put(`${name}.svg`, svg);
    await put(`${name}.png`, svgToPng(svg));
  }
  await put(
    "report.md",
    reportMarkdown(report, { database: opts.databaseLabel, generatedAt: opts.now ?? Date.now() }),
  );
  return { report, files };
}
