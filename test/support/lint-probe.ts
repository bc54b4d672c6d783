/**
 * lintProbe makes a scratch tree with the repository's Biome configuration (VCS integration off:
 * the tree is no checkout) where tests lay out files as in the repository and lint them with
 * the real Biome.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIOME = join(ROOT, "node_modules/.bin/biome");

export interface LintProbe {
  readonly dir: string;
  /** write puts `source` at `path` (relative to the probe tree). */
  write(path: string, source: string): void;
  /** lint runs `biome lint` on `path` and returns whether it passed and what it said. */
  lint(path: string): { ok: boolean; output: string };
  remove(): void;
}

export function lintProbe(): LintProbe {
  const dir = mkdtempSync(join(tmpdir(), "tp-lint-"));
  const config = JSON.parse(readFileSync(join(ROOT, "biome.json"), "utf8"));
  config.vcs.enabled = false;
  delete config.$schema;
  writeFileSync(join(dir, "biome.json"), JSON.stringify(config));
  cpSync(join(ROOT, "lint"), join(dir, "lint"), { recursive: true });
  return {
    dir,
    write(path, source) {
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, source);
    },
    lint(path) {
      const r = spawnSync(BIOME, ["lint", "--max-diagnostics=50", path], {
        cwd: dir,
        encoding: "utf8",
      });
      return { ok: r.status === 0, output: r.stdout + r.stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
