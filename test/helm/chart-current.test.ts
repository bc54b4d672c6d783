import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { chartFiles, staleChartFiles } from "../../scripts/chart-files.ts";

const root = new URL("../../", import.meta.url);

it("the chart's generated files (CRD, ClusterRole, values schema, alerts, dashboards) are current", async () => {
  const wanted = await chartFiles();
  const stale: string[] = [];
  for (const [file, content] of wanted) {
    const current = await readFile(new URL(file, root), "utf8").catch(() => undefined);
    if (current !== content) stale.push(file);
  }
  stale.push(...(await staleChartFiles(wanted)));
  assert.deepEqual(stale, [], "out of date: run `npm run gen:chart` and commit the result");
});
