/**
 * End to end: a short `tradepipe run --fused` on a fresh embedded data directory; `tradepipe
 * report` while it runs (the run's database), then once it has ended (no DATABASE_URL: the
 * report starts the embedded Postgres on the data directory itself). Plus the refusals.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { findAll, parseXml } from "../../services/core/charts/xml-check.ts";
import { liveRuns } from "../../services/pipeline/run-files.ts";
import { tradepipe } from "../e2e/support.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  // /tmp directly: as root, Postgres runs as another user that must reach the data directory.
  dir = await mkdtemp("/tmp/tp-report-e2e-");
  await chmod(dir, 0o755);
  env = { ...process.env, TRADEPIPE_DATA_DIR: dir };
  delete env.DATABASE_URL;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("report refuses a data directory with no database, and creates none", async () => {
  const empty = join(dir, "nothing-here");
  const r = await tradepipe(["report", "--data-dir", empty, "--out", join(dir, "r0")], env, 30_000);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TP_ERR_DB_UNAVAILABLE: .*nothing-here: no tradepipe database here/);
  assert.equal(existsSync(join(empty, "PG_VERSION")), false);
  assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
});

test("report rejects a bad --since with the accepted form", async () => {
  const r = await tradepipe(["report", "--since", "yesterday"], env, 30_000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--since: "yesterday" is not an ISO 8601 instant/);
});

test("tradepipe report during a tradepipe run (its database), then on its data directory", async () => {
  const running = tradepipe(
    ["run", "--fused", "--duration", "20", "--metrics-port", "0"],
    env,
    120_000,
  );
  // While it runs: the report reads the live run's database (found through its run file).
  const deadline = Date.now() + 60_000;
  while (liveRuns(env).length === 0 && Date.now() < deadline) await sleep(200);
  assert.equal(liveRuns(env).length, 1, "the run announced itself");
  const live = await tradepipe(["report", "--out", join(dir, "live")], env, 60_000);
  assert.equal(live.code, 0, live.stderr);
  assert.match(live.stdout, /database: the live tradepipe run \(pid \d+, pipeline /);
  assert.ok(existsSync(join(dir, "live", "equity.png")));

  const run = await running;
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  assert.equal(liveRuns(env).length, 0);
  const fillsRun = /orders sent, (\d+) fills/.exec(run.stdout + run.stderr)?.[1];
  assert.ok(fillsRun, "the run printed its summary");

  const out = join(dir, "report");
  const r = await tradepipe(["report", "--out", out], env, 120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /database: embedded Postgres in .*\/postgres/);
  for (const f of [
    "equity.svg",
    "equity.png",
    "pnl-by-symbol.svg",
    "pnl-by-symbol.png",
    "report.md",
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const md = await readFile(join(out, "report.md"), "utf8");
  const fills = Number(/\| Fills \| (\d+) /.exec(md)?.[1]);
  // Fills that land while the pipeline drains count in the summary too.
  assert.equal(fills, Number(fillsRun), "fills in the run's summary and in its database");
  assert.ok(fills > 0, "the simulated market produced fills");
  assert.match(md, /\| Total P&L \| -?[\d,]+\.\d\d USD/);
  const equity = parseXml(await readFile(join(out, "equity.svg"), "utf8"));
  const series = findAll(equity, (e) => e.attrs.class === "series");
  assert.ok(series.length >= 2, "a curve and its drawdown");
  assert.ok(series.every((s) => Number(s.attrs["data-points"]) > 0));
  const bars = parseXml(await readFile(join(out, "pnl-by-symbol.svg"), "utf8"));
  assert.ok(findAll(bars, (e) => e.attrs.class === "bar").length > 0);
  const png = await readFile(join(out, "equity.png"));
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
});
