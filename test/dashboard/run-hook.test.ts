/**
 * `tradepipe run`'s dashboard: served on loopback with its URL said, left out with "off", and
 * never served beyond loopback from a run (that needs `tradepipe dashboard --tokens`).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TradingPipeline } from "../../services/core/spec/index.ts";
import { serveRunDashboard } from "../../services/dashboard/run-hook.ts";
import { type TestDatabase, withMigratedDatabase } from "../support/pg.ts";

let db: TestDatabase;
before(async () => {
  db = await withMigratedDatabase();
});
after(async () => {
  await db.drop();
});

const pipeline = { metadata: { name: "alpha" }, spec: { risk: {} } } as unknown as TradingPipeline;

async function serve(listen: string | undefined) {
  const lines: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const env = listen === undefined ? {} : { TRADEPIPE_DASHBOARD_LISTEN: listen };
  await serveRunDashboard(db.pool, pipeline, env, (t) => lines.push(t), cleanups);
  return { lines, cleanups };
}

test("serves on a free loopback port and says where", async () => {
  const { lines, cleanups } = await serve(undefined);
  try {
    const url = /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(lines[0] ?? "")?.[1];
    assert.ok(url, lines.join("\n"));
    const me = (await (await fetch(`${url}api/me`)).json()) as { pipeline: string };
    assert.equal(me.pipeline, "alpha");
  } finally {
    for (const c of cleanups) await c();
  }
});

test("off leaves it out; a non-loopback address is refused with the reason", async () => {
  assert.deepEqual((await serve("off")).lines, []);
  const { lines, cleanups } = await serve("0.0.0.0:0");
  assert.equal(cleanups.length, 0);
  assert.match(lines[0]!, /not started: .*must be 127\.0\.0\.1:PORT or off/);
});
