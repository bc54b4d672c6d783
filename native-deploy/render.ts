/**
 * render writes the systemd units of a pipeline into a directory. Everything is rendered and
 * checked before the first file is written, so an invalid spec or CPU plan writes nothing; a
 * file whose content is unchanged is left alone, so a spec change touches only the units it
 * affects (and `systemctl daemon-reload` restarts only those).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TradingPipeline } from "../services/core/spec/index.ts";
import { type CpuPlanOptions, planCpus } from "./cpu-plan.ts";
import { renderSystemdUnits } from "./systemd-units.ts";

export interface RenderOptions extends CpuPlanOptions {
  outDir: string;
  prefix?: string;
  configDir?: string;
  user?: string;
}

export interface RenderResult {
  created: string[];
  updated: string[];
  unchanged: string[];
}

export function renderSystemd(pipeline: TradingPipeline, opts: RenderOptions): RenderResult {
  const files = renderSystemdUnits(pipeline, {
    prefix: opts.prefix ?? "/opt/tradepipe",
    configDir: opts.configDir ?? `/etc/tradepipe/${pipeline.metadata.name}`,
    user: opts.user ?? "tradepipe",
    cpus: planCpus(pipeline, opts),
  });
  const result: RenderResult = { created: [], updated: [], unchanged: [] };
  mkdirSync(opts.outDir, { recursive: true });
  for (const [name, content] of files) {
    const path = join(opts.outDir, name);
    const before = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    if (before === content) {
      result.unchanged.push(name);
      continue;
    }
    // Write then rename, so a reader never sees half a unit.
    writeFileSync(`${path}.tmp`, content, { mode: 0o644 });
    renameSync(`${path}.tmp`, path);
    (before === undefined ? result.created : result.updated).push(name);
  }
  return result;
}
