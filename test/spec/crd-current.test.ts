import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { CRD_FILE, crdYaml } from "../../services/core/spec/crd.ts";
import { replaceFieldsTable } from "../../services/core/spec/docs.ts";

const read = (file: string) => readFile(new URL(`../../${file}`, import.meta.url), "utf8");

it(`${CRD_FILE} is what the generator writes`, async () => {
  assert.ok(
    (await read(CRD_FILE)) === crdYaml(),
    `${CRD_FILE} is out of date with services/core/spec/: run \`npm run gen:crd\` and commit the result`,
  );
});

it("config/README.md documents the current fields and defaults", async () => {
  const readme = await read("config/README.md");
  assert.ok(
    readme === replaceFieldsTable(readme),
    "the fields table in config/README.md is out of date: run `npm run gen:crd` and commit the result",
  );
});
