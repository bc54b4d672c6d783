import assert from "node:assert/strict";
import { test } from "node:test";
import { downsampleMinMax } from "./downsample.ts";

test("keeps every spike and at most four points per bucket", () => {
  const n = 100_000;
  const t = Array.from({ length: n }, (_, i) => i * 1000);
  const v = Array.from({ length: n }, (_, i) => Math.sin(i / 500));
  v[12_345] = -50; // a one-point crash
  v[77_777] = 40;
  const out = downsampleMinMax({ t, v }, 300);
  assert.ok(out.t.length <= 1200, `${out.t.length} points`);
  assert.equal(Math.min(...out.v), -50);
  assert.equal(Math.max(...out.v), 40);
  assert.equal(out.t[0], 0);
  assert.equal(out.t[out.t.length - 1], (n - 1) * 1000);
  for (let i = 1; i < out.t.length; i += 1) assert.ok(out.t[i]! > out.t[i - 1]!);
});

test("short series pass through; bad bucket counts are named", () => {
  assert.deepEqual(downsampleMinMax({ t: [1, 2], v: [3, 4] }, 10), { t: [1, 2], v: [3, 4] });
  assert.throws(() => downsampleMinMax({ t: [], v: [] }, 0), /buckets must be a positive integer/);
});
