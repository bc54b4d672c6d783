/**
 * The dependency arrows run one way: the operator builds on the trading runtime (services/),
 * never the reverse, so a bare-metal or local install needs no operator code and a change in
 * the operator cannot break a stage. Every import (static, re-export or dynamic) of every file
 * under services/ is resolved and must stay outside operator/.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

/** importsInto: "file → specifier" for each import of `files` that lands under `forbidden`. */
function importsInto(files: readonly string[], forbidden: string): string[] {
  return files.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(SPECIFIER)]
      .map((m) => m[1]!)
      .filter((s) => s.startsWith("."))
      .filter((s) => resolve(dirname(file), s).startsWith(forbidden))
      .map((s) => `${relative(ROOT, file)} → ${s}`),
  );
}

test("nothing under services/ imports operator/", () => {
  const files = sourceFiles(join(ROOT, "services"));
  assert.ok(files.length > 100, "the scan found the services' files");
  assert.deepEqual(importsInto(files, join(ROOT, "operator") + "/"), []);
});

test("the check sees static, re-exported and dynamic imports", () => {
  const probe = join(ROOT, "services", "core", "probe.ts");
  const at = (text: string) => {
    const matches = [...text.matchAll(SPECIFIER)].map((m) => m[1]!);
    return matches.filter((s) => resolve(dirname(probe), s).startsWith(join(ROOT, "operator/")));
  };
  assert.deepEqual(at('import { x } from "../../operator/kube/apply.ts";'), [
    "../../operator/kube/apply.ts",
  ]);
  assert.deepEqual(at('export { y } from "../../operator/api/names.ts";'), [
    "../../operator/api/names.ts",
  ]);
  assert.deepEqual(at('const m = await import("../../operator/specs/rbac.ts");'), [
    "../../operator/specs/rbac.ts",
  ]);
  assert.deepEqual(at('import { z } from "../../services/core/kube/client.ts";'), []);
});
