import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSectorMap, symbolsWithoutSector } from "./sectors.ts";

describe("parseSectorMap", () => {
  it("reads symbol -> sector", () => {
    const result = parseSectorMap(
      "sectors:\n  AAPL: Information Technology\n  BRK.B: Financials\n",
    );
    assert.ok(result.ok);
    assert.deepEqual(
      [...result.sectors],
      [
        ["AAPL", "Information Technology"],
        ["BRK.B", "Financials"],
      ],
    );
    assert.deepEqual(symbolsWithoutSector(["AAPL", "XOM"], result.sectors), ["XOM"]);
  });

  it("reports every bad entry with its path", () => {
    const result = parseSectorMap({ sectors: { aapl: "Tech", MSFT: "", NVDA: 3 }, extra: 1 });
    assert.deepEqual(result, {
      ok: false,
      errors: [
        { path: "extra", message: "unknown field (allowed: sectors)" },
        { path: 'sectors["aapl"]', message: "must be an upper-case ticker such as AAPL or BRK.B" },
        { path: 'sectors["MSFT"]', message: "must be a sector name" },
        { path: 'sectors["NVDA"]', message: "must be a sector name" },
      ],
    });
  });

  it("refuses a document without the sectors mapping", () => {
    assert.deepEqual(parseSectorMap("- AAPL\n"), {
      ok: false,
      errors: [{ path: "", message: "must be a mapping with a `sectors` key" }],
    });
    assert.deepEqual(parseSectorMap("other: 1\n"), {
      ok: false,
      errors: [
        { path: "other", message: "unknown field (allowed: sectors)" },
        { path: "sectors", message: "must be a mapping of symbol to sector" },
      ],
    });
  });
});
