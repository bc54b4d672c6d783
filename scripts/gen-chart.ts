/**
 * gen-chart writes the generated parts of charts/tradepipe-operator/ (see chart-files.ts).
 * `--check` only compares and exits 1 when one is stale (test/helm/chart-current.test.ts runs
 * the same comparison).
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { chartFiles, staleChartFiles } from "./chart-files.ts";

const root = new URL("../", import.meta.url);
const check = process.argv.includes("--check");
let stale = false;

const wanted = await chartFiles();
for (const [file, content] of wanted) {
  const target = new URL(file, root);
  const current = await readFile(target, "utf8").catch(() => undefined);
  if (current === content) continue;
  if (check) {
    process.stderr.write(`${file} is out of date: run \`npm run gen:chart\`\n`);
    stale = true;
  } else {
    await mkdir(dirname(target.pathname), { recursive: true });
    await writeFile(target, content);
    process.stdout.write(`wrote ${file}\n`);
  }
}
for (const file of await staleChartFiles(wanted)) {
  if (check) {
    process.stderr.write(`${file} has no source any more: run \`npm run gen:chart\`\n`);
    stale = true;
  } else {
    await rm(new URL(file, root));
    process.stdout.write(`removed ${file}\n`);
  }
}
if (!check && !stale) process.stdout.write(`${wanted.size} generated chart files current\n`);
if (stale) process.exitCode = 1;
