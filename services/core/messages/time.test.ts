import assert from "node:assert/strict";
import { test } from "node:test";
import { measureWallAnchor, monotonicClockNs, wallAnchor, wallClockNs } from "./time.ts";

/**
 * scriptedClocks is a monotonic clock and a millisecond wall clock over one virtual timeline:
 * every reading advances it by `stepNs` (plus `stallNs(call)`, a preemption before that call),
 * and the wall clock truncates `timeline + trueOffsetNs` to the millisecond as Date.now() does.
 */
function scriptedClocks(
  trueOffsetNs: bigint,
  stepNs: bigint,
  stallNs: (call: number) => bigint = () => 0n,
) {
  let t = 1_000_000_000_000n;
  let calls = 0;
  const advance = () => {
    t += stepNs + stallNs(calls++);
    return t;
  };
  return {
    mono: () => advance(),
    wallMs: () => Number((advance() + trueOffsetNs) / 1_000_000n),
  };
}

test("the anchor lies within its stated uncertainty of the true offset, and a fast loop pins it to a few µs", () => {
  for (const trueOffsetNs of [
    0n,
    1n,
    499_999n,
    500_000n,
    999_999n,
    1_765_000_123_456_789n,
    1_765_000_000_999_001n,
  ]) {
    for (const stepNs of [40n, 333n, 1_700n]) {
      const { mono, wallMs } = scriptedClocks(trueOffsetNs, stepNs);
      const a = measureWallAnchor(mono, wallMs);
      const error =
        a.offsetNs > trueOffsetNs ? a.offsetNs - trueOffsetNs : trueOffsetNs - a.offsetNs;
      assert.ok(
        error <= a.uncertaintyNs,
        `offset ${trueOffsetNs} step ${stepNs}: off by ${error} > ${a.uncertaintyNs}`,
      );
      assert.ok(
        a.uncertaintyNs <= 3n * stepNs,
        `window of a loop turn, got ±${a.uncertaintyNs} for step ${stepNs}`,
      );
    }
  }
});

test("a tick caught across a preemption is measured again and the narrowest window is kept", () => {
  // Every reading during the first ~1 ms stalls 400 µs, so the first tick's window is wide;
  // later ticks are caught in a 100 ns loop.
  const trueOffsetNs = 1_765_000_000_123_457n;
  const { mono, wallMs } = scriptedClocks(trueOffsetNs, 100n, (call) => (call < 4 ? 400_000n : 0n));
  const a = measureWallAnchor(mono, wallMs);
  const error = a.offsetNs > trueOffsetNs ? a.offsetNs - trueOffsetNs : trueOffsetNs - a.offsetNs;
  assert.ok(a.uncertaintyNs <= 300n, `kept a window of ±${a.uncertaintyNs}`);
  assert.ok(error <= a.uncertaintyNs);
});

test("wallClockNs agrees with Date.now() to the process anchor's uncertainty, and never goes back", () => {
  // Bracketing by Date.now() holds however the readings are scheduled; the only slack is the
  // anchor's own window and the kernel's largest clock slew (500 ppm) since start-up.
  const slewNs = BigInt(Math.ceil(process.uptime() * 1e9 * 500e-6)) + 1_000n;
  const slackNs = wallAnchor.uncertaintyNs + slewNs;
  for (let i = 0; i < 1_000; i++) {
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = wallClockNs();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.ok(
      ns >= before - slackNs && ns < after + slackNs,
      `${ns} vs ${before}..${after} ±${slackNs}`,
    );
  }
  let last = wallClockNs();
  for (let i = 0; i < 1_000; i++) {
    const now = wallClockNs();
    assert.ok(now >= last);
    last = now;
  }
});

test("wallClockNs is the monotonic clock plus one offset per process", () => {
  // For monotonic readings m0 ≤ m1 around a wall reading w, the offset lies in [w − m1, w − m0];
  // one constant offset means every such interval overlaps every other, whatever the delays.
  let lowest = -(1n << 80n);
  let highest = 1n << 80n;
  for (let i = 0; i < 1_000; i++) {
    const m0 = monotonicClockNs();
    const w = wallClockNs();
    const m1 = monotonicClockNs();
    if (w - m1 > lowest) lowest = w - m1;
    if (w - m0 < highest) highest = w - m0;
  }
  assert.ok(lowest <= highest, `no single offset fits: ${lowest} > ${highest}`);
});
