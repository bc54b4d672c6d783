import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { CRD_FILE, crdYaml } from "../../services/core/spec/crd.ts";

it(`${CRD_FILE} is what the generator writes`, async () => {
  const committed = await readFile(new URL(`../../${CRD_FILE}`, import.meta.url), "utf8");
  assert.ok(
    committed === crdYaml(),
    `${CRD_FILE} is out of date with services/core/spec/: run \`npm run gen:crd\` and commit the result`,
  );
});
