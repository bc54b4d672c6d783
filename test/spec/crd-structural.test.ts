import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CRD_FILE } from "../../services/core/spec/crd.ts";
import { CONDITION_TYPES, CROSS_FIELD_RULES, defaultSpec } from "../../services/core/spec/index.ts";
import { structuralProblems } from "../../services/core/spec/structural-check.ts";

type Node = Record<string, unknown>;

const crd = parse(await readFile(new URL(`../../${CRD_FILE}`, import.meta.url), "utf8")) as Node;
const version = ((crd.spec as Node).versions as Node[])[0]!;
const root = (version.schema as Node).openAPIV3Schema as Node;

/** nodeAt walks a CrossFieldRule location ("spec.placement.tolerations[]") through the schema. */
function nodeAt(at: string): Node {
  let node = root;
  for (const seg of at.split(".").filter((s) => s !== "")) {
    const list = seg.endsWith("[]");
    node = (node.properties as Record<string, Node>)[list ? seg.slice(0, -2) : seg]!;
    assert.ok(node, `no schema node at ${at}`);
    if (list) node = node.items as Node;
  }
  return node;
}

/** applyDefaults mirrors the apiserver's structural defaulting: set missing defaults, then recurse. */
function applyDefaults(value: unknown, node: Node): unknown {
  if (node.type === "object" && value && typeof value === "object" && node.properties) {
    const obj = value as Record<string, unknown>;
    for (const [k, child] of Object.entries(node.properties as Record<string, Node>)) {
      if (obj[k] === undefined && child.default !== undefined)
        obj[k] = structuredClone(child.default);
      if (obj[k] !== undefined) obj[k] = applyDefaults(obj[k], child);
    }
  } else if (node.type === "array" && Array.isArray(value)) {
    return value.map((v) => applyDefaults(v, node.items as Node));
  }
  return value;
}

describe(`the CRD in ${CRD_FILE}`, () => {
  it("is a structural schema with a description on every field", () => {
    assert.deepEqual(structuralProblems(root), []);
  });

  it("names the API as the design says", () => {
    const spec = crd.spec as Node;
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal((crd.metadata as Node).name, "tradingpipelines.tradepipe.io");
    assert.equal(spec.group, "tradepipe.io");
    assert.equal(spec.scope, "Namespaced");
    assert.deepEqual(spec.names, {
      kind: "TradingPipeline",
      listKind: "TradingPipelineList",
      plural: "tradingpipelines",
      singular: "tradingpipeline",
      shortNames: ["tp"],
      categories: ["tradepipe"],
    });
    assert.equal(version.name, "v1alpha1");
    assert.equal(version.served, true);
    assert.equal(version.storage, true);
    assert.deepEqual(version.subresources, { status: {} });
  });

  it("has the printer columns Phase, Trading, Primary and Age", () => {
    const columns = (version.additionalPrinterColumns as Node[]).filter(
      (c) => c.priority === undefined,
    );
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.jsonPath]),
      [
        ["Phase", "string", ".status.phase"],
        ["Trading", "boolean", ".status.trading"],
        ["Primary", "string", ".status.primary"],
        ["Age", "date", ".metadata.creationTimestamp"],
      ],
    );
  });

  it("keys status.conditions by type, so server-side apply merges them", () => {
    const conditions = nodeAt("status.conditions");
    assert.equal(conditions["x-kubernetes-list-type"], "map");
    assert.deepEqual(conditions["x-kubernetes-list-map-keys"], ["type"]);
    assert.match(String(conditions.description), new RegExp(CONDITION_TYPES.join(", ")));
  });

  it("states every cross-field rule as CEL on the node it sits on", () => {
    for (const rule of CROSS_FIELD_RULES) {
      const validations = (nodeAt(rule.at)["x-kubernetes-validations"] ?? []) as Node[];
      const found = validations.find((v) => v.rule === rule.rule);
      assert.ok(found, `rule "${rule.rule}" missing at ${rule.at || "(root)"}`);
      assert.equal(found.message, rule.message);
    }
  });

  it("refers in CEL only to fields the schema declares", () => {
    for (const rule of CROSS_FIELD_RULES) {
      const node = nodeAt(rule.at);
      for (const [, chain] of rule.rule.matchAll(/self((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        let here: Node | undefined = node;
        for (const field of chain!.split(".").slice(1)) {
          // String methods (size, matches) end the field chain.
          if (here?.type === "string" || field === "size" || field === "matches") break;
          if (here === root && field === "metadata") {
            here = { type: "object", properties: { name: { type: "string" } } };
            continue;
          }
          here = (here?.properties as Record<string, Node> | undefined)?.[field];
          assert.ok(here, `rule "${rule.rule}" at ${rule.at || "(root)"}: no field ${chain}`);
        }
      }
    }
  });

  it("defaults an empty spec, as the apiserver would, to the same spec as parsePipeline", () => {
    const defaulted = applyDefaults({}, nodeAt("spec"));
    assert.deepEqual(defaulted, defaultSpec());
  });

  it("writes object defaults out in full (the apiserver checks them against CEL undefaulted)", () => {
    const incomplete: string[] = [];
    const visit = (node: Node, path: string) => {
      if (node.type === "object" && node.default !== undefined) {
        const filled = applyDefaults(structuredClone(node.default), node);
        if (JSON.stringify(filled) !== JSON.stringify(node.default)) incomplete.push(path);
      }
      for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
        visit(child, `${path}.${k}`);
      }
      if (node.items) visit(node.items as Node, `${path}[]`);
    };
    visit(nodeAt("spec"), "spec");
    assert.deepEqual(incomplete, []);
  });

  it("declares no defaults under status (the operator owns it)", () => {
    const text = JSON.stringify(nodeAt("status"));
    assert.equal(text.includes('"default"'), false);
  });
});
