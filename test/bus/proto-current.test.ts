/**
 * The committed generated message code must be what proto/ generates: regenerate into a temp
 * directory and compare file by file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { GENERATED_DIR, generateProto, repoRoot } from "../../scripts/gen-proto.ts";

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test("generated message code is current (run `npm run gen:proto` if this fails)", () => {
  const out = mkdtempSync(join(tmpdir(), "tradepipe-proto-"));
  try {
    const fresh = generateProto(out);
    const committed = join(repoRoot, GENERATED_DIR);
    const freshFiles = listFiles(fresh);
    assert.ok(freshFiles.length > 0, "the generator produced no files");
    assert.deepEqual(listFiles(committed), freshFiles, "generated file list differs");
    for (const file of freshFiles) {
      const want = readFileSync(join(fresh, file), "utf8");
      const have = readFileSync(join(committed, file), "utf8");
      assert.ok(have === want, `${GENERATED_DIR}/${file} differs from what proto/ generates`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
