#!/usr/bin/env node
/**
 * gen-proto regenerates the TypeScript message code from proto/ with buf and protoc-gen-es
 * (both from node_modules, so it works offline). `npm run gen:proto` writes into
 * services/core/messages/gen/; `generateProto(outDir)` lets the currency test write elsewhere.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** GENERATED_DIR is where buf.gen.yaml puts the code, relative to the output base. */
export const GENERATED_DIR = join("services", "core", "messages", "gen");

/** generateProto writes the generated code under `outBase`/services/core/messages/gen. */
export function generateProto(outBase: string = repoRoot): string {
  const target = join(outBase, GENERATED_DIR);
  rmSync(target, { recursive: true, force: true });
  const bin = join(repoRoot, "node_modules", ".bin");
  execFileSync(join(bin, "buf"), ["generate", "--output", outBase], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
    // buf finds the `local: protoc-gen-es` plugin on PATH.
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
  });
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = generateProto();
  console.log(`generated TypeScript from proto/ into ${target}`);
}
