import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { defaultSpec, parseSpec, pipelineSpecJsonSchema } from "../../services/core/spec/index.ts";

// The Helm chart's values.schema.json uses this document; Helm validates with a draft-07 validator.
const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });
const validate = ajv.compile(pipelineSpecJsonSchema());

describe("pipelineSpecJsonSchema", () => {
  it("accepts the default spec and an empty one", () => {
    assert.equal(validate(defaultSpec()), true, JSON.stringify(validate.errors));
    assert.equal(validate({}), true, JSON.stringify(validate.errors));
  });

  const invalid: [string, unknown][] = [
    ["negative limit", { risk: { maxOpenPositions: -1 } }],
    ["fractional CPUs", { stages: { marketData: { resources: { cpu: 1.5 } } } }],
    ["unknown field", { risk: { maxOpenPosition: 3 } }],
    ["bad enum", { broker: { kind: "ibkr" } }],
    ["negative money", { risk: { maxDailyLoss: "-1" } }],
  ];
  for (const [name, spec] of invalid) {
    it(`refuses ${name}, as parseSpec does`, () => {
      assert.equal(validate(spec), false);
      assert.equal(parseSpec(spec).ok, false);
    });
  }

  it("carries no Kubernetes-only keywords", () => {
    assert.equal(JSON.stringify(pipelineSpecJsonSchema()).includes("x-kubernetes"), false);
  });
});
