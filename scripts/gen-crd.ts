/**
 * gen-crd writes what is generated from services/core/spec/: the TradingPipeline CRD in crds/
 * and the fields table of config/README.md. `--check` only compares, and exits 1 when either
 * committed file is stale.
 */
import { readFile, writeFile } from "node:fs/promises";
import { CRD_FILE, crdYaml } from "../services/core/spec/crd.ts";
import { replaceFieldsTable } from "../services/core/spec/docs.ts";

const CONFIG_README = "config/README.md";
const root = new URL("../", import.meta.url);
const check = process.argv.includes("--check");
let stale = false;

async function update(file: string, render: (current: string) => string): Promise<void> {
  const target = new URL(file, root);
  const current = await readFile(target, "utf8").catch(() => "");
  const wanted = render(current);
  if (current === wanted) {
    process.stdout.write(`${file} is current\n`);
  } else if (check) {
    process.stderr.write(`${file} is out of date: run \`npm run gen:crd\`\n`);
    stale = true;
  } else {
    await writeFile(target, wanted);
    process.stdout.write(`wrote ${file}\n`);
  }
}

await update(CRD_FILE, () => crdYaml());
await update(CONFIG_README, replaceFieldsTable);
if (stale) process.exitCode = 1;
