/**
 * gen-all is `npm run gen`: every generated file in one go (protobuf code, the CRD and its
 * documentation table, the Helm chart's generated parts). Each generator also has its own npm script and a test that fails when
 * its committed output is stale.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const generators = ["scripts/gen-proto.ts", "scripts/gen-crd.ts", "scripts/gen-chart.ts"];
let failed = 0;
for (const script of generators) {
  console.log(`▶ ${script}`);
  const r = spawnSync(process.execPath, [script], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
