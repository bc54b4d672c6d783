import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createMetrics } from "../telemetry/metrics.ts";
import { createReadiness } from "./readiness.ts";
import { type HealthServer, startHealthServer } from "./server.ts";

const servers: HealthServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(opts: Parameters<typeof startHealthServer>[0]): Promise<HealthServer> {
  const s = await startHealthServer(opts);
  servers.push(s);
  return s;
}

test("/health answers 200 while the process is alive", async () => {
  const s = await start({});
  const res = await fetch(`${s.url}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, "alive");
  assert.ok(s.port > 0);
});

test("/ready follows named checks: 503 with reasons until every check is ok", async () => {
  const readiness = createReadiness();
  readiness.declare("database", "reconciliation");
  const s = await start({ readiness });

  let res = await fetch(`${s.url}/ready`);
  assert.equal(res.status, 503);
  let body = (await res.json()) as { ready: boolean; reasons: string[] };
  assert.deepEqual(body.reasons, ["database: pending", "reconciliation: pending"]);

  readiness.set("database", true);
  readiness.set("reconciliation", false, "3 breaks against the broker");
  res = await fetch(`${s.url}/ready`);
  body = (await res.json()) as { ready: boolean; reasons: string[] };
  assert.equal(res.status, 503);
  assert.deepEqual(body.reasons, ["reconciliation: 3 breaks against the broker"]);

  readiness.set("reconciliation", true);
  res = await fetch(`${s.url}/ready`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { ready: boolean }).ready, true);
});

test("/ready accepts a function; a throwing one means not ready", async () => {
  let state: boolean | Error = false;
  const s = await start({
    readiness: () => {
      if (state instanceof Error) throw state;
      return state ? true : { ready: false, reasons: ["kill switch engaged"] };
    },
  });
  let res = await fetch(`${s.url}/ready`);
  assert.equal(res.status, 503);
  assert.deepEqual(((await res.json()) as { reasons: string[] }).reasons, ["kill switch engaged"]);
  state = true;
  res = await fetch(`${s.url}/ready`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  state = new Error("database unreachable");
  res = await fetch(`${s.url}/ready`);
  assert.equal(res.status, 503);
  assert.match(
    ((await res.json()) as { reasons: string[] }).reasons[0] ?? "",
    /database unreachable/,
  );
});

test("/metrics serves the registry in Prometheus text format", async () => {
  const metrics = createMetrics();
  metrics.counter("orders_sent_total", "Orders sent to the broker.").inc(3);
  const s = await start({ registry: metrics.registry });
  const res = await fetch(`${s.url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), metrics.registry.contentType);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^tradepipe_orders_sent_total 3$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
});

test("unknown paths are 404, extra GET routes are served, and nothing but GET/HEAD is", async () => {
  const s = await start({
    routes: {
      "GET /kill-switch": (_req, res) => void res.writeHead(200).end(),
      "POST /kill-switch": (_req, res) => void res.writeHead(202).end(),
    },
  });
  const notFound = await fetch(`${s.url}/nope`);
  assert.equal(notFound.status, 404);
  await notFound.body?.cancel();
  const wrong = await fetch(`${s.url}/health`, { method: "POST" });
  assert.equal(wrong.status, 405);
  await wrong.body?.cancel();
  const extra = await fetch(`${s.url}/kill-switch`);
  assert.equal(extra.status, 200);
  await extra.body?.cancel();
  // A mutating route mounted here by mistake is still not reachable: the scrape port is read-only.
  const post = await fetch(`${s.url}/kill-switch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"engaged": false}',
  });
  assert.equal(post.status, 405);
  assert.match(String(((await post.json()) as { error: string }).error), /read-only/);
});

test("close() frees the port even with a keep-alive connection open", async () => {
  const s = await startHealthServer({});
  const res = await fetch(`${s.url}/health`);
  await res.body?.cancel();
  await s.close();
  await assert.rejects(fetch(`${s.url}/health`));
});
