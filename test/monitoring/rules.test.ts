/**
 * The alert rules and scrape configurations in monitoring/prometheus, checked by the real
 * promtool: the rules load, every alert's unit tests pass, every alert has a firing test case,
 * and every configuration loads.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { parse } from "yaml";
import { MONITORING, PROMTOOL, run } from "./support.ts";

const PROM = join(MONITORING, "prometheus");
const RULES = join(PROM, "rules/tradepipe-alerts.yml");
const TESTS = join(PROM, "tests/tradepipe-alerts.test.yml");

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}
interface TestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

it("promtool check rules accepts the alert rules", async () => {
  const r = await run(PROMTOOL, ["check", "rules", RULES]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 10 rules found/);
});

it("promtool test rules passes the unit tests of every alert", async () => {
  const r = await run(PROMTOOL, ["test", "rules", TESTS], "", PROM);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

it("every alert has a unit test where it fires and one where it does not", async () => {
  const rules = parse(await readFile(RULES, "utf8")) as RuleFile;
  const tests = parse(await readFile(TESTS, "utf8")) as TestFile;
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean);
  assert.equal(alerts.length, 10);
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(
      mine.some((c) => c.exp_alerts.length > 0),
      `${alert}: no case where it fires`,
    );
    assert.ok(
      mine.some((c) => c.exp_alerts.length === 0),
      `${alert}: no case where it stays quiet`,
    );
  }
});

for (const config of ["stages.yml", "fused.yml", "compose.yml"]) {
  it(`promtool check config accepts ${config}`, async () => {
    const r = await run(PROMTOOL, ["check", "config", join(PROM, config)]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
}

it("the stage scrape targets are the ports the systemd units give the stages", async () => {
  const config = parse(await readFile(join(PROM, "stages.yml"), "utf8"));
  const job = config.scrape_configs.find((j: { job_name: string }) => j.job_name === "tradepipe");
  const targets = job.static_configs.map((s: { targets: string[]; labels: { stage: string } }) => [
    s.labels.stage,
    s.targets[0],
  ]);
  const { parsePipeline } = await import("../../services/core/spec/index.ts");
  const { renderSystemdUnits, serviceName } = await import("../../native-deploy/systemd-units.ts");
  const { planCpus } = await import("../../native-deploy/cpu-plan.ts");
  const { STAGE_PROCESSES } = await import("../../services/pipeline/stages.ts");
  const parsed = parsePipeline({
    apiVersion: "tradepipe.io/v1alpha1",
    kind: "TradingPipeline",
    metadata: { name: "p" },
    spec: {},
  });
  assert.ok(parsed.ok);
  const pipeline = parsed.pipeline;
  const units = renderSystemdUnits(pipeline, {
    prefix: "/opt/tradepipe",
    configDir: "/etc/tradepipe/p",
    user: "tradepipe",
    cpus: planCpus(pipeline, { hostCpus: 64 }),
  });
  const rendered = STAGE_PROCESSES.map((stage) => {
    const unit = units.get(serviceName(pipeline, stage)) ?? "";
    const port = /TRADEPIPE_HEALTH_PORT=(\d+)/.exec(unit)?.[1];
    return [stage, `127.0.0.1:${port}`];
  });
  assert.deepEqual(targets, rendered);
});
