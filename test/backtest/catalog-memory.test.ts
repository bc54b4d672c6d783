/**
 * The catalog streams one date at a time: the heap in use while reading 20 days stays that of
 * reading 1 day (measured in separate processes after a full GC at each new date).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeSyntheticCatalog } from "../../services/backtest/synthetic.ts";
import { T0 } from "../../services/backtest/test-support.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./memory-child.ts", import.meta.url));
const FROM = "2026-03-02";
const TO = "2026-03-21";

describe("catalog memory", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tp-catalog-mem-"));
    writeSyntheticCatalog(dir, {
      symbols: { AAPL: 190, MSFT: 410 },
      seed: 9,
      startNs: T0,
      minutes: 30n,
      days: 20,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("holds about one day in memory whether it reads 1 day or 20", async () => {
    const measure = async (to: string) => {
      const { stdout } = await run(process.execPath, [
        "--expose-gc",
        CHILD,
        dir,
        FROM,
        to,
        "AAPL,MSFT",
      ]);
      const [peak, records] = stdout.trim().split(" ").map(Number) as [number, number];
      return { peak, records };
    };
    const one = await measure(FROM);
    const twenty = await measure(TO);
    assert.equal(twenty.records, one.records * 20, "20 days read in full");
    // A leak of one day's records (tens of thousands of objects) per day would be ~19x one day's share.
    assert.ok(
      twenty.peak < one.peak * 1.5,
      `heap after 20 days ${(twenty.peak / 1e6).toFixed(1)} MB vs 1 day ${(one.peak / 1e6).toFixed(1)} MB`,
    );
  });
});
