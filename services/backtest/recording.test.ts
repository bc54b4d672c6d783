import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { etDate } from "../broker-sim/core/time.ts";
import { partitionPath } from "./catalog/layout.ts";
import { readColumns } from "./catalog/parquet.ts";
import { intentsText, sha256 } from "./digest.ts";
import { BacktestEngine } from "./engine.ts";
import { InputRecorder, replayRecording, simulateRecording } from "./recording.ts";
import { syntheticBatches } from "./synthetic.ts";
import { T0, testConfig } from "./test-support.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function recordedRun() {
  const dir = mkdtempSync(join(tmpdir(), "tp-recording-"));
  dirs.push(dir);
  const symbols = { AAPL: 190, MSFT: 410 };
  const cfg = await testConfig(Object.keys(symbols), 3);
  cfg.latency = { ...cfg.latency, jitterNs: 7_000_000n };
  const recorder = new InputRecorder();
  const engine = new BacktestEngine({ ...cfg, onInput: recorder.onInput });
  for (const b of syntheticBatches({
    symbols,
    seed: 3,
    startNs: T0,
    durationNs: 15n * 60_000_000_000n,
  }))
    engine.push(b);
  const result = engine.finish();
  const requests = result.intents.map((i) => i.request);
  const written = recorder.write(dir, requests, { pipeline: "bt", symbols: Object.keys(symbols) });
  return { dir, cfg, result, requests, written };
}

describe("recordings", () => {
  it("replaying a run's input log gives byte-identical order intents (same ids, fields, order)", async () => {
    const { dir, cfg, requests, written } = await recordedRun();
    assert.ok(requests.length > 10, "the run sent orders");
    assert.equal(written.intentsSha256, sha256(intentsText(requests)));
    // Market data is stored as catalog partitions with both timestamps.
    const quotes = await readColumns(partitionPath(dir, "quotes", "AAPL", etDate(T0)), [
      "t_ns",
      "received_ns",
      "seq",
    ]);
    assert.ok(quotes.rows > 0);
    assert.ok((quotes.columns.received_ns![0] as bigint) > (quotes.columns.t_ns![0] as bigint));
    const replay = await replayRecording(dir, cfg.kernel, cfg.score);
    assert.equal(replay.intents.length, requests.length);
    assert.equal(replay.sha256, written.intentsSha256);
    assert.equal(replay.compared, "intents");
    assert.ok(replay.identical);
    assert.equal(replay.firstDifference, 0);
  });

  it("finds the first different intent when the strategy differs from the recorded one", async () => {
    const { dir, cfg } = await recordedRun();
    const other = { ...cfg.kernel, orderQty: cfg.kernel.orderQty * 2n };
    const replay = await replayRecording(dir, other, cfg.score);
    assert.equal(replay.identical, false);
    assert.equal(replay.firstDifference, 1);
  });

  it("refuses a directory that is not a recording", async () => {
    const { cfg } = await recordedRun();
    const empty = mkdtempSync(join(tmpdir(), "tp-not-recording-"));
    dirs.push(empty);
    await assert.rejects(
      replayRecording(empty, cfg.kernel, cfg.score),
      /not a recording: no recording.json/,
    );
  });

  it("simulated mode: the recording's market data against the simulated venue, differences per symbol", async () => {
    const { dir, cfg } = await recordedRun();
    // The recording came from this very venue and settings: nothing differs.
    const same = await simulateRecording(dir, cfg);
    assert.deepEqual(
      same.parity.map((p) => p.symbol),
      ["AAPL", "MSFT"],
    );
    for (const p of same.parity) {
      assert.equal(p.fillRateDiff, 0, p.symbol);
      assert.ok(p.priceDiffBps === null || p.priceDiffBps === 0, `${p.symbol} ${p.priceDiffBps}`);
      assert.equal(p.pnlDiff, 0, p.symbol);
      assert.ok(p.recorded.fillRate !== null && p.recorded.fillRate > 0);
    }
    // A slower order path fills at other prices: the report shows it.
    const slow = await simulateRecording(dir, {
      ...cfg,
      latency: { ...cfg.latency, submitEntryNs: 900_000_000n },
    });
    assert.ok(
      slow.parity.some((p) => p.pnlDiff !== 0 || (p.priceDiffBps ?? 0) !== 0),
      JSON.stringify(slow.parity),
    );
  });
});
