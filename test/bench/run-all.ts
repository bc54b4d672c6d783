/**
 * run-all is `npm run bench`: runs every test/bench/*.bench.ts one after another (never in
 * parallel: they would measure each other), each in a fresh Node process.
 *
 * Usage: npm run bench [-- <name filter> ...]   e.g. npm run bench -- bus pipeline
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const started = Date.now();
  console.log(`\n━━ ${file} ━━`);
  const r = spawnSync(process.execPath, [`${dir}${file}`], { stdio: "inherit" });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) failed++;
  console.log(
    `━━ ${file}: ${r.status === 0 ? "done" : `failed (${r.signal ?? r.status})`} in ${secs} s`,
  );
}
process.exit(failed ? 1 : 0);
