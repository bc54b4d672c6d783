/**
 * render writes the systemd units of a pipeline into a directory. Everything is rendered and
 * checked before the first file is written, so an invalid spec or CPU plan writes nothing; a
 * file whose content is unchanged is left alone, so a spec change touches only the units it
 * affects (and `systemctl daemon-reload` restarts only those).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TradingPipeline } from "../services/core/spec/index.ts";
import { type CpuPlanOptions, planCpus } from "./cpu-plan.ts";
import { type HaUnitOptions, renderHaFiles } from "./ha-units.ts";
import { type PatroniTopology, validateTopology } from "./patroni-config.ts";
import { renderSystemdUnits } from "./systemd-units.ts";

export interface RenderOptions extends CpuPlanOptions {
  outDir: string;
  prefix?: string;
  configDir?: string;
  /** The database's CA certificate the stages verify the server with (a path on the host). */
  databaseCaFile?: string;
  user?: string;
  /** The database tier (Patroni and etcd), written per host under `outDir`/<host>/. */
  ha?: HaUnitOptions & { topology: PatroniTopology; outDir: string };
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
    ...(opts.databaseCaFile ? { databaseCaFile: opts.databaseCaFile } : {}),
    user: opts.user ?? "tradepipe",
    cpus: planCpus(pipeline, opts),
  });
  const writes: Array<[string, string, string]> = [...files].map(([name, content]) => [
    join(opts.outDir, name),
    name,
    content,
  ]);
  if (opts.ha) {
    validateTopology(opts.ha.topology);
    for (const [host, hostFiles] of renderHaFiles(pipeline, opts.ha.topology, opts.ha)) {
      for (const [path, content] of hostFiles)
        writes.push([join(opts.ha.outDir, host, path), join(host, path), content]);
    }
  }
  const result: RenderResult = { created: [], updated: [], unchanged: [] };
  mkdirSync(opts.outDir, { recursive: true });
  for (const [path, name, content] of writes) {
    mkdirSync(dirname(path), { recursive: true });
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
