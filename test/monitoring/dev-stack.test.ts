/**
 * The development stack (docker-compose.yml) and the OpenTelemetry Collector example, checked
 * without Docker: the pipeline it runs is valid, every stage has its service, Prometheus scrapes
 * exactly those services, every mounted file exists, and the collector's pipelines only name
 * components it defines.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { parse } from "yaml";
import { loadPipelineFile } from "../../services/core/spec/index.ts";
import { STAGE_PROCESSES } from "../../services/pipeline/stages.ts";
import { MONITORING, ROOT } from "./support.ts";

interface Service {
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
}

async function compose(): Promise<{ services: Record<string, Service> }> {
  // merge: true resolves the `<<: *stage` anchors as Compose does.
  return parse(await readFile(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true });
}

it("the stack's pipeline is a valid TradingPipeline that sends traces to the collector", async () => {
  const pipeline = await loadPipelineFile(join(MONITORING, "compose/pipeline.yaml"));
  assert.equal(pipeline.spec.broker.kind, "simulator");
  assert.match(pipeline.spec.observability.otlpEndpoint ?? "", /^http:\/\/otel-collector:4318/);
});

it("every stage runs as its own service on the bus over tcp, scraped by Prometheus", async () => {
  const { services } = await compose();
  for (const stage of STAGE_PROCESSES) {
    const s = services[stage];
    assert.ok(s, `no service ${stage}`);
    assert.deepEqual(s.command?.slice(0, 2), ["stage", stage]);
    assert.equal(s.environment?.TRADEPIPE_BUS_TCP_HOSTS, "{stage}");
    assert.equal(s.environment?.TRADEPIPE_HEALTH_HOST, "0.0.0.0");
  }
  const prom = parse(await readFile(join(MONITORING, "prometheus/compose.yml"), "utf8"));
  const job = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === "tradepipe");
  const targets = job.static_configs.map((c: { targets: string[] }) => c.targets[0]);
  const port = services["market-data"]!.environment!.TRADEPIPE_HEALTH_PORT;
  assert.deepEqual(
    targets,
    STAGE_PROCESSES.map((s) => `${s}:${port}`),
  );
  for (const name of [
    "postgres",
    "simulator",
    "prometheus",
    "grafana",
    "otel-collector",
    "jaeger",
  ]) {
    assert.ok(services[name], `no service ${name}`);
  }
});

it("every file the stack mounts exists in the repository", async () => {
  const { services } = await compose();
  const sources = Object.values(services)
    .flatMap((s) => s.volumes ?? [])
    .map((v) => v.split(":")[0]!)
    .filter((src) => src.startsWith("./"));
  assert.ok(sources.length >= 5);
  for (const src of sources) assert.ok(existsSync(join(ROOT, src)), `${src} does not exist`);
});

it("the collector's pipelines name only receivers, processors and exporters it defines", async () => {
  const config = parse(await readFile(join(MONITORING, "otel/collector.yaml"), "utf8"));
  const pipelines = Object.entries(config.service.pipelines) as [
    string,
    Record<string, string[]>,
  ][];
  assert.ok(pipelines.some(([name]) => name === "traces"));
  for (const [name, p] of pipelines) {
    for (const kind of ["receivers", "processors", "exporters"]) {
      for (const id of p[kind] ?? []) {
        assert.ok(id in config[kind], `pipeline ${name}: ${kind} ${id} is not defined`);
      }
    }
  }
  for (const ext of config.service.extensions ?? []) assert.ok(ext in config.extensions);
});
