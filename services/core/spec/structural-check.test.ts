import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { structuralProblems } from "./structural-check.ts";

const d = "A field.";

function problemsOf(schema: Record<string, unknown>): string[] {
  return structuralProblems(schema).map((p) => `${p.path}: ${p.problem}`);
}

describe("structuralProblems", () => {
  it("accepts a small structural schema", () => {
    const schema = {
      type: "object",
      description: d,
      properties: {
        metadata: { type: "object" },
        spec: {
          type: "object",
          description: d,
          properties: {
            size: {
              type: "integer",
              description: d,
              minimum: 0,
              exclusiveMinimum: true,
              default: 1,
            },
            labels: {
              type: "object",
              description: d,
              additionalProperties: { type: "string", description: d },
            },
            items: {
              type: "array",
              description: d,
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["name"],
              items: {
                type: "object",
                description: d,
                required: ["name"],
                properties: { name: { type: "string", description: d } },
              },
            },
          },
          "x-kubernetes-validations": [
            { rule: "self.size > 0", message: "size must be positive", fieldPath: ".size" },
          ],
        },
      },
    };
    assert.deepEqual(problemsOf(schema), []);
  });

  it("finds missing types and descriptions", () => {
    const schema = {
      type: "object",
      description: d,
      properties: { a: { description: d }, b: { type: "string" } },
    };
    assert.deepEqual(problemsOf(schema), [
      "a: must have a type (one of object, array, string, integer, number, boolean)",
      "b: must have a description",
    ]);
  });

  it("finds keywords a structural schema forbids", () => {
    const schema = {
      type: "object",
      description: d,
      $schema: "x",
      additionalProperties: false,
      properties: {
        kind: { type: "string", description: d, anyOf: [{ const: "a" }] },
        tags: {
          type: "array",
          description: d,
          uniqueItems: true,
          items: { type: "string", description: d },
        },
      },
    };
    assert.deepEqual(problemsOf(schema), [
      "(root): keyword $schema: not allowed in a CRD schema",
      "(root): additionalProperties and properties are mutually exclusive in a structural schema",
      "(root): additionalProperties: false is not allowed (unknown fields are pruned)",
      "kind: keyword anyOf: use enum, or keep logical junctors free of types and defaults",
      "tags: keyword uniqueItems: not supported: use x-kubernetes-list-type set or map",
    ]);
  });

  it("finds JSON-Schema-2019 bounds, bad defaults, bad list maps and bad rules", () => {
    const schema = {
      type: "object",
      description: d,
      properties: {
        ratio: { type: "number", description: d, exclusiveMinimum: 0 },
        mode: { type: "string", description: d, enum: ["a", "b"], default: "c" },
        conds: {
          type: "array",
          description: d,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
          items: {
            type: "object",
            description: d,
            properties: { type: { type: "string", description: d } },
          },
        },
      },
      "x-kubernetes-validations": [{ rule: "true", message: "two\nlines" }],
    };
    assert.deepEqual(problemsOf(schema), [
      "(root): validation true needs a one-line message",
      "ratio: exclusiveMinimum must be a boolean (OpenAPI 3.0)",
      "ratio: exclusiveMinimum needs minimum",
      "mode: default does not match the node's type or enum",
      "conds: map key type must be required or defaulted",
    ]);
  });

  it("allows only name and generateName under the root metadata", () => {
    const schema = {
      type: "object",
      description: d,
      properties: {
        metadata: { type: "object", description: d, properties: { labels: { type: "object" } } },
      },
    };
    assert.deepEqual(problemsOf(schema), [
      "metadata: metadata may only restrict name and generateName, not description",
      "metadata: metadata may not declare labels",
    ]);
  });
});
