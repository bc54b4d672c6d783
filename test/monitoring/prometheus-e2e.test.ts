/**
 * End to end: `tradepipe run --fused` trades against the simulator while a real Prometheus
 * scrapes its /metrics (with the alert rules loaded); queries through Prometheus's HTTP API return
 * the pipeline's order count and its order latency histogram, and promtool check metrics finds
 * no naming problem in the exposition.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_PIPELINE_FILE } from "../../bin/commands/run.ts";
import type { Simulator } from "../../services/broker-sim/index.ts";
import { runLocal } from "../../services/pipeline/local-run.ts";
import { freePort } from "../cluster/processes.ts";
import { defaultPipeline, simState, startTestSimulator, waitFor } from "../e2e/support.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";
import { startPrometheus, type TestPrometheus } from "./prometheus.ts";
import { MONITORING, PROMTOOL, run } from "./support.ts";

const ALERTS = `${MONITORING}/prometheus/rules/tradepipe-alerts.yml`;

describe("Prometheus scraping a fused tradepipe run", { timeout: 420_000 }, () => {
  let db: TestDatabase;
  let sim: Simulator;
  let prom: TestPrometheus;
  let metricsUrl: string;
  let running: Promise<unknown>;
  const stop = new AbortController();
  const savedDatabaseUrl = process.env.DATABASE_URL;

  before(async () => {
    db = await withMigratedDatabase();
    // runLocal opens the database named by the process environment.
    process.env.DATABASE_URL = db.url;
    const base = await defaultPipeline();
    const pipeline = {
      ...base,
      spec: {
        ...base.spec,
        observability: { ...base.spec.observability, logLevel: "warn" as const },
      },
    };
    sim = await startTestSimulator(pipeline, 5);
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    running = runLocal({
      pipeline,
      specFile: DEFAULT_PIPELINE_FILE,
      fused: true,
      durationSeconds: 0,
      simulator: sim,
      stopSignal: stop.signal,
      healthPort: port,
      env: { ...process.env, DATABASE_URL: db.url, TRADEPIPE_LOG_LEVEL: "warn" },
      statusIntervalMs: 60_000,
    });
    running.catch(() => {});
    prom = await startPrometheus({
      ruleFiles: [ALERTS],
      scrapeConfigs: [
        {
          job_name: "tradepipe",
          honor_labels: true,
          static_configs: [{ targets: [`127.0.0.1:${port}`], labels: { stage: "fused" } }],
        },
      ],
    });
  });

  after(async () => {
    stop.abort();
    await running?.catch(() => {});
    await prom?.stop();
    await sim?.close();
    await db?.drop();
    if (savedDatabaseUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedDatabaseUrl;
  });

  it("Prometheus scrapes the run and loads the alert rules", async () => {
    const up = await waitFor("the fused run scraped (up == 1)", 120_000, async () => {
      const r = await prom.query('up{job="tradepipe"}');
      return r.length === 1 && r[0]!.value[1] === "1" ? r : undefined;
    });
    assert.equal(up[0]!.metric.stage, "fused");
    const rules = await prom.get<{ groups: { rules: { name: string; health: string }[] }[] }>(
      "/api/v1/rules",
    );
    const loaded = rules.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, 10);
    for (const r of loaded) assert.equal(r.health, "ok", `${r.name} is ${r.health}`);
  });

  it("a query returns the pipeline's order count", async () => {
    const orders = await waitFor("orders counted by Prometheus", 300_000, async () => {
      const r = await prom.query("sum by (pipeline) (tradepipe_orders_submitted_total)");
      return r.length === 1 && Number(r[0]!.value[1]) > 0 ? r[0]! : undefined;
    });
    assert.equal(orders.metric.pipeline, "local");
    // Prometheus saw at most what the broker received (its last scrape may be a little behind).
    const seen = Number(orders.value[1]);
    assert.ok(Number.isInteger(seen));
    // Every first send is of an order the engine recorded before sending it. (Not the broker's
    // log: the simulator's per-minute limit runs on the wall clock and refuses a POST before it
    // logs it, while the engine's ceiling runs on event time — at simulator speed 5 some first
    // sends are answered 429 and retried.)
    const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM orders");
    const recorded = Number(rows[0]!.n);
    assert.ok(
      seen <= recorded,
      `Prometheus counted ${seen} sends, the engine recorded ${recorded}`,
    );
    assert.ok(
      simState(sim).order_requests.some((r) => r.kind === "submit"),
      "orders reached the broker",
    );
  });

  it("a query returns the order latency histogram and its quantiles", async () => {
    const buckets = await waitFor("latency buckets with observations", 120_000, async () => {
      const r = await prom.query("tradepipe_order_submit_latency_seconds_bucket");
      const inf = r.find((s) => s.metric.le === "+Inf");
      return inf && Number(inf.value[1]) > 0 ? r : undefined;
    });
    const les = buckets.map((s) => s.metric.le);
    assert.ok(les.includes("0.001") && les.includes("+Inf"), les.join(","));
    const counts = buckets
      .map((s) => [Number(s.metric.le === "+Inf" ? Infinity : s.metric.le), Number(s.value[1])])
      .sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < counts.length; i++) {
      assert.ok(counts[i]![1]! >= counts[i - 1]![1]!, "bucket counts must be cumulative");
    }
    // Over the whole run (a rate() window could hold no orders once the run stops trading).
    const [p99] = await prom.query(
      "histogram_quantile(0.99, sum by (le) (tradepipe_order_submit_latency_seconds_bucket))",
    );
    assert.ok(p99, "no p99");
    const seconds = Number(p99.value[1]);
    assert.ok(Number.isFinite(seconds) && seconds > 0, `p99 ${p99.value[1]}`);
  });

  it("the stages report ready through tradepipe_stage_ready", async () => {
    const ready = await waitFor("five ready stages", 120_000, async () => {
      const r = await prom.query("tradepipe_stage_ready == 1");
      return r.length === 5 ? r : undefined;
    });
    assert.deepEqual(ready.map((s) => s.metric.stage).sort(), [
      "execution-engine",
      "market-data",
      "position-tracker",
      "risk-manager",
      "signal-bridge",
    ]);
  });

  it("promtool check metrics finds no naming problem in the run's /metrics", async () => {
    const exposition = await (await fetch(metricsUrl)).text();
    assert.match(exposition, /tradepipe_orders_submitted_total/);
    const r = await run(PROMTOOL, ["check", "metrics"], exposition);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
});
