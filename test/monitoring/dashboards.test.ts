/**
 * The Grafana dashboards in monitoring/grafana/dashboards: well-formed, unique, every query valid
 * PromQL (checked by promtool as recording rules), and every tradepipe_ series they or the alert
 * rules use is defined by the code or listed as pending.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { parse, stringify } from "yaml";
import {
  definedMetricNames,
  MONITORING,
  metricNamesIn,
  PENDING_METRICS,
  PROMTOOL,
  run,
} from "./support.ts";

const DIR = join(MONITORING, "grafana/dashboards");

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
}

async function dashboards(): Promise<[string, Dashboard][]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith(".json")).sort();
  return Promise.all(
    files.map(
      async (f) => [f, JSON.parse(await readFile(join(DIR, f), "utf8"))] as [string, Dashboard],
    ),
  );
}

/** Grafana variables become plain PromQL the way Grafana expands them for "All". */
function expand(expr: string): string {
  return expr.replaceAll("$pipeline", ".*").replaceAll("$" + "{datasource}", "prometheus");
}

it("the four dashboards exist with unique uids, unique panel ids and a pipeline variable", async () => {
  const all = await dashboards();
  assert.deepEqual(
    all.map(([f]) => f),
    ["database.json", "latency.json", "overview.json", "risk.json"],
  );
  const uids = all.map(([, d]) => d.uid);
  assert.equal(new Set(uids).size, uids.length);
  for (const [file, d] of all) {
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
    assert.ok(
      d.templating.list.some((v) => v.name === "pipeline"),
      `${file}: no pipeline variable`,
    );
    assert.ok(d.panels.filter((p) => p.type !== "row").length >= 6, `${file}: too few panels`);
  }
});

it("every dashboard query is valid PromQL", async () => {
  const rules = [];
  for (const [file, d] of await dashboards()) {
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        rules.push({
          record: `dashboard:${file.replace(".json", "")}:${p.id}_${t.refId}`,
          expr: expand(t.expr),
        });
      }
    }
  }
  assert.ok(rules.length > 40);
  const dir = await mkdtemp(join(tmpdir(), "tp-dash-"));
  try {
    const file = join(dir, "queries.yml");
    await writeFile(file, stringify({ groups: [{ name: "dashboards", rules }] }));
    const r = await run(PROMTOOL, ["check", "rules", file]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("every tradepipe_ series in the dashboards and alert rules is defined by the code or pending", async () => {
  const defined = await definedMetricNames();
  const used = new Set<string>();
  for (const [, d] of await dashboards()) {
    for (const p of d.panels)
      for (const t of p.targets ?? []) for (const n of metricNamesIn(t.expr)) used.add(n);
  }
  const rules = parse(
    await readFile(join(MONITORING, "prometheus/rules/tradepipe-alerts.yml"), "utf8"),
  );
  for (const g of rules.groups)
    for (const r of g.rules) for (const n of metricNamesIn(r.expr)) used.add(n);
  const unknown = [...used].filter((n) => !defined.has(n) && !PENDING_METRICS.has(n));
  assert.deepEqual(unknown, [], "series used but neither defined nor listed as pending");
  const landed = [...PENDING_METRICS].filter((n) => defined.has(n));
  assert.deepEqual(
    landed,
    [],
    "now defined by the code: remove from PENDING_METRICS and the README",
  );
  const unused = [...PENDING_METRICS].filter((n) => !used.has(n));
  assert.deepEqual(unused, [], "pending but used nowhere");
});
