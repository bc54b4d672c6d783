import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { applyDefaults } from "./defaults.ts";

const Inner = Type.Object(
  { n: Type.Integer({ default: 3 }), s: Type.Optional(Type.String()) },
  { default: {} },
);
const Outer = Type.Object({
  inner: Inner,
  list: Type.Array(Type.Object({ k: Type.String({ default: "x" }) }), { default: [] }),
  tags: Type.Array(Type.String(), { default: ["a", "b"] }),
});

describe("applyDefaults", () => {
  it("grows nested defaults from an empty object", () => {
    assert.deepEqual(applyDefaults(Outer, {}), { inner: { n: 3 }, list: [], tags: ["a", "b"] });
  });

  it("keeps present values, even invalid ones, and defaults inside list items", () => {
    const value = applyDefaults(Outer, { inner: { n: "three" }, list: [{}, { k: "y" }] });
    assert.deepEqual(value, {
      inner: { n: "three" },
      list: [{ k: "x" }, { k: "y" }],
      tags: ["a", "b"],
    });
  });

  it("copies defaults, so one result never aliases another", () => {
    const a = applyDefaults(Outer, {}) as { tags: string[] };
    a.tags.push("c");
    assert.deepEqual((applyDefaults(Outer, {}) as { tags: string[] }).tags, ["a", "b"]);
  });

  it("leaves values of the wrong shape alone", () => {
    assert.equal(applyDefaults(Outer, "text"), "text");
    assert.deepEqual(applyDefaults(Outer, { inner: [1] }), {
      inner: [1],
      list: [],
      tags: ["a", "b"],
    });
  });
});
