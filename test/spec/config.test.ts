import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatErrors,
  loadPipelineFile,
  loadSectorMap,
  readPipelineFile,
  symbolsWithoutSector,
} from "../../services/core/spec/index.ts";

const file = (p: string) => new URL(`../../${p}`, import.meta.url).pathname;

describe("config/pipeline.yaml", () => {
  it("is a valid TradingPipeline for a local run", async () => {
    const result = await readPipelineFile(file("config/pipeline.yaml"));
    assert.ok(result.ok, result.ok ? "" : formatErrors(result.errors));
    const { metadata, spec } = result.pipeline;
    assert.equal(metadata.name, "local");
    assert.deepEqual(spec.symbols, ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]);
    assert.equal(spec.broker.kind, "simulator");
    assert.equal(spec.broker.credentialsSecretRef, undefined);
    assert.equal(spec.broker.simulator.seed, 42);
    assert.equal(spec.killSwitch, false);
  });

  it("has a sector for every symbol in config/sectors.yaml", async () => {
    const pipeline = await loadPipelineFile(file("config/pipeline.yaml"));
    const sectors = await loadSectorMap(file("config/sectors.yaml"));
    assert.ok(sectors.ok, sectors.ok ? "" : formatErrors(sectors.errors));
    assert.deepEqual(symbolsWithoutSector(pipeline.spec.symbols, sectors.sectors), []);
  });
});

describe("loadPipelineFile", () => {
  it("throws an InvalidSpecError naming the file and each problem", async () => {
    await assert.rejects(
      loadPipelineFile(file("config/sectors.yaml")),
      (err: Error & { code?: string; errors?: unknown[] }) => {
        assert.equal(err.code, "TP_ERR_INVALID_SPEC");
        assert.match(err.message, /config\/sectors\.yaml: invalid TradingPipeline/);
        assert.match(err.message, /^apiVersion: is required$/m);
        assert.ok(Array.isArray(err.errors) && err.errors.length >= 3);
        return true;
      },
    );
  });

  it("reports a missing file as an error, not a crash", async () => {
    const result = await readPipelineFile(file("config/no-such-file.yaml"));
    assert.deepEqual(result, {
      ok: false,
      errors: [
        {
          path: "(file)",
          message: `cannot read ${file("config/no-such-file.yaml")}: no such file`,
        },
      ],
    });
  });
});
