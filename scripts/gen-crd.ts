/**
 * gen-crd writes the TradingPipeline CRD generated from services/core/spec/ into crds/.
 * `--check` only compares and exits 1 when the committed file is stale.
 */
import { readFile, writeFile } from "node:fs/promises";
import { CRD_FILE, crdYaml } from "../services/core/spec/crd.ts";

const target = new URL(`../${CRD_FILE}`, import.meta.url);
const wanted = crdYaml();

if (process.argv.includes("--check")) {
  const current = await readFile(target, "utf8").catch(() => "");
  if (current !== wanted) {
    process.stderr.write(`${CRD_FILE} is out of date: run \`npm run gen:crd\`\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${CRD_FILE} is current\n`);
  }
} else {
  await writeFile(target, wanted);
  process.stdout.write(`wrote ${CRD_FILE}\n`);
}
