import assert from "node:assert/strict";
import { test } from "node:test";
import { decimalOf } from "./signal-message.ts";

test("decimalOf keeps a whole quantity's own zeros and drops only a fraction's", () => {
  assert.equal(decimalOf(100, 0), "100");
  assert.equal(decimalOf(250, 0), "250");
  assert.equal(decimalOf(7, 0), "7");
  assert.equal(decimalOf(120, 4), "120");
  assert.equal(decimalOf(100.5, 4), "100.5");
  assert.equal(decimalOf(187.2534, 4), "187.2534");
  assert.equal(decimalOf(0.1, 4), "0.1");
  assert.equal(decimalOf(0, 0), "");
  assert.equal(decimalOf(Number.NaN, 4), "");
});
