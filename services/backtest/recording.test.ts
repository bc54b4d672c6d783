import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { etDate } from "../broker-sim/core/time.ts";
import { Kernel } from "../kernel/kernel.ts";
import { DECISIONS_FILE, DecisionLog } from "../signal-bridge/decision-log.ts";
import { partitionPath } from "./catalog/layout.ts";
import { readColumns } from "./catalog/parquet.ts";
import { intentsText, sha256 } from "./digest.ts";
import { BacktestEngine } from "./engine.ts";
import {
  decisionOf,
  InputRecorder,
  marketRecorderFor,
  replayRecording,
  simulateRecording,
} from "./recording.ts";
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

  it("a recording made at market-data ingress replays to the recorded decisions, and across a stage restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-ingress-"));
    dirs.push(dir);
    const cfg = await testConfig(["AAPL", "MSFT"], 3);
    // What the live stages do: the market-data stage records (through a per-process recorder
    // that survives a stop and start), the signal-bridge logs what it published.
    const recorder = marketRecorderFor(dir);
    assert.equal(marketRecorderFor(dir), recorder, "one recorder per directory in a process");
    const log = new DecisionLog(dir);
    const live = new Kernel(cfg.kernel, {
      score: cfg.score,
      broker: { send: () => {}, cancel: () => {}, resolve: () => {} },
      scheduleRetry: () => {},
      observer: { signal: (s) => log.add(decisionOf(s)) },
    });
    const batches = [
      ...syntheticBatches({
        symbols: { AAPL: 190, MSFT: 410 },
        seed: 3,
        startNs: T0,
        durationNs: 10n * 60_000_000_000n,
        books: true,
      }),
    ];
    let n = 0;
    for (const batch of batches) {
      for (const r of batch) {
        const received = r.exchangeNs + 3_000_000n;
        const event =
          r.kind === "quote"
            ? {
                type: "quote" as const,
                symbol: r.symbol,
                timeNs: r.exchangeNs,
                bidPrice: r.bidPrice,
                bidSize: r.bidSize,
                askPrice: r.askPrice,
                askSize: r.askSize,
              }
            : r.kind === "trade"
              ? {
                  type: "trade" as const,
                  symbol: r.symbol,
                  timeNs: r.exchangeNs,
                  price: r.price,
                  size: r.size,
                  tradeId: r.tradeId,
                }
              : undefined;
        if (event === undefined) continue;
        recorder.record(event, received);
        live.marketData(event, received);
        // Half way, the stage stops (writes) and starts again in the same process.
        if (++n === 2000) recorder.write(dir, { pipeline: "bt", symbols: ["AAPL", "MSFT"] });
      }
    }
    recorder.write(dir, { pipeline: "bt", symbols: ["AAPL", "MSFT"] });
    log.flush();
    // A restarted signal-bridge appends to the decisions, it does not start the file again.
    new DecisionLog(dir).flush();
    const replay = await replayRecording(dir, cfg.kernel, cfg.score);
    assert.equal(replay.compared, "decisions");
    assert.ok(replay.lines > 5, `decisions: ${replay.lines}`);
    assert.ok(replay.identical, `first difference at ${replay.firstDifference}`);
    // Another decision in the log is found, at its line.
    const path = join(dir, DECISIONS_FILE);
    const lines = readFileSync(path, "utf8").split("\n");
    lines[3] = lines[3]!.replace(
      /,(buy|sell),/,
      (_m, side) => `,${side === "buy" ? "sell" : "buy"},`,
    );
    writeFileSync(path, lines.join("\n"));
    const changed = await replayRecording(dir, cfg.kernel, cfg.score);
    assert.equal(changed.identical, false);
    assert.equal(changed.firstDifference, 3, "the third decision (after the header)");
  });
});
