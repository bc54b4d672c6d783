/**
 * The symbol → sector map (config/sectors.yaml) the risk manager uses for
 * spec.risk.maxSectorConcentration. Parsing follows parsePipeline's contract: every error with
 * its path, never a throw on bad input.
 */
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { SpecError } from "./describe-error.ts";
import { yamlError } from "./validate.ts";

export type SectorMapResult =
  | { ok: true; sectors: ReadonlyMap<string, string> }
  | { ok: false; errors: SpecError[] };

const TICKER = /^[A-Z][A-Z0-9.]{0,9}$/;

/** parseSectorMap reads `sectors: {SYMBOL: Sector, ...}` from YAML text or a parsed object. */
export function parseSectorMap(input: unknown): SectorMapResult {
  let value = input;
  if (typeof input === "string") {
    const doc = parseDocument(input, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        errors: doc.errors.map(yamlError),
      };
    }
    value = doc.toJS();
  }
  const root = value as { sectors?: unknown } | null;
  if (!root || typeof root !== "object" || Array.isArray(root)) {
    return { ok: false, errors: [{ path: "", message: "must be a mapping with a `sectors` key" }] };
  }
  const errors: SpecError[] = [];
  for (const key of Object.keys(root)) {
    if (key !== "sectors") errors.push({ path: key, message: "unknown field (allowed: sectors)" });
  }
  const sectors = root.sectors;
  if (!sectors || typeof sectors !== "object" || Array.isArray(sectors)) {
    errors.push({ path: "sectors", message: "must be a mapping of symbol to sector" });
    return { ok: false, errors };
  }
  const map = new Map<string, string>();
  for (const [symbol, sector] of Object.entries(sectors)) {
    const path = `sectors[${JSON.stringify(symbol)}]`;
    if (!TICKER.test(symbol))
      errors.push({ path, message: "must be an upper-case ticker such as AAPL or BRK.B" });
    else if (typeof sector !== "string" || sector.trim() === "") {
      errors.push({ path, message: "must be a sector name" });
    } else map.set(symbol, sector);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, sectors: map };
}

/** loadSectorMap reads a sector map file; a missing or unreadable file is an error, not a throw. */
export async function loadSectorMap(path: string): Promise<SectorMapResult> {
  try {
    return parseSectorMap(await readFile(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return { ok: false, errors: [{ path: "(file)", message: `cannot read ${path}: ${code}` }] };
  }
}

/** symbolsWithoutSector lists the spec's symbols the map doesn't know. */
export function symbolsWithoutSector(
  symbols: readonly string[],
  sectors: ReadonlyMap<string, string>,
): string[] {
  return symbols.filter((s) => !sectors.has(s));
}
