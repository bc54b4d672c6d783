import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pointerToPath } from "./describe-error.ts";

describe("pointerToPath", () => {
  it("writes fields with dots and indexes with brackets", () => {
    assert.equal(
      pointerToPath("/spec/placement/tolerations/0/key"),
      "spec.placement.tolerations[0].key",
    );
    assert.equal(pointerToPath("/risk/maxOpenPositions", "spec"), "spec.risk.maxOpenPositions");
    assert.equal(pointerToPath(""), "");
  });

  it("quotes keys that are not identifiers", () => {
    assert.equal(
      pointerToPath("/spec/placement/nodeSelector/node.kubernetes.io~1role"),
      'spec.placement.nodeSelector["node.kubernetes.io/role"]',
    );
  });
});
