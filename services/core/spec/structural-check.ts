/**
 * structuralProblems lists every way a CRD's openAPIV3Schema breaks the rules of a Kubernetes
 * structural schema, plus this project's own rule that every field is described. An empty list
 * means the apiserver's structural checks should accept it; the apiserver itself is the final
 * judge (the operator's tests apply the CRD to a real one).
 */
type Node = Record<string, unknown>;

/** KNOWN_KEYWORDS are the JSONSchemaProps fields apiextensions.k8s.io/v1 accepts. */
const KNOWN_KEYWORDS = new Set([
  "type",
  "description",
  "title",
  "properties",
  "required",
  "items",
  "additionalProperties",
  "enum",
  "default",
  "example",
  "nullable",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
]);
/** FORBIDDEN explains the keywords a structural schema may not use at all. */
const FORBIDDEN: Record<string, string> = {
  $id: "not allowed in a CRD schema",
  $schema: "not allowed in a CRD schema",
  $ref: "references are not allowed: inline the schema",
  definitions: "not allowed in a CRD schema",
  anyOf: "use enum, or keep logical junctors free of types and defaults",
  oneOf: "use enum, or keep logical junctors free of types and defaults",
  allOf: "use enum, or keep logical junctors free of types and defaults",
  not: "not used by this project",
  const: "not supported: use enum",
  patternProperties: "not supported: use additionalProperties",
  dependencies: "not supported",
  additionalItems: "not supported",
  uniqueItems: "not supported: use x-kubernetes-list-type set or map",
};
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);
const FORMATS = new Set([
  "int32",
  "int64",
  "float",
  "double",
  "byte",
  "date",
  "date-time",
  "duration",
  "uri",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
  "password",
]);

export interface StructuralProblem {
  path: string;
  problem: string;
}

/** structuralProblems checks an openAPIV3Schema; `path` names nodes like `spec.risk.maxDailyLoss`. */
export function structuralProblems(root: Node): StructuralProblem[] {
  const out: StructuralProblem[] = [];
  visit(root, "", out, true);
  return out;
}

function visit(node: Node, path: string, out: StructuralProblem[], isRoot = false): void {
  const at = path || "(root)";
  const add = (problem: string) => out.push({ path: at, problem });
  for (const key of Object.keys(node)) {
    if (key in FORBIDDEN) add(`keyword ${key}: ${FORBIDDEN[key]}`);
    else if (!KNOWN_KEYWORDS.has(key)) add(`unknown keyword ${key}`);
  }
  const type = node.type;
  const free =
    node["x-kubernetes-int-or-string"] === true ||
    node["x-kubernetes-preserve-unknown-fields"] === true;
  if (typeof type !== "string" || !TYPES.has(type)) {
    if (!free) add(`must have a type (one of ${[...TYPES].join(", ")})`);
  }
  if (typeof node.description !== "string" || node.description.trim() === "")
    add("must have a description");
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    add("additionalProperties and properties are mutually exclusive in a structural schema");
  }
  if (node.additionalProperties === false)
    add("additionalProperties: false is not allowed (unknown fields are pruned)");
  if (typeof node.format === "string" && !FORMATS.has(node.format))
    add(`unknown format ${node.format}`);
  for (const bound of ["exclusiveMinimum", "exclusiveMaximum"] as const) {
    if (node[bound] === undefined) continue;
    if (typeof node[bound] !== "boolean") add(`${bound} must be a boolean (OpenAPI 3.0)`);
    if (node[bound === "exclusiveMinimum" ? "minimum" : "maximum"] === undefined)
      add(`${bound} needs ${bound === "exclusiveMinimum" ? "minimum" : "maximum"}`);
  }
  if (node.default !== undefined && !matchesType(node.default, node))
    add("default does not match the node's type or enum");
  checkLists(node, add);
  checkValidations(node, add);
  if (type === "object" && node.properties) {
    const props = node.properties as Record<string, Node>;
    for (const req of (node.required as string[] | undefined) ?? []) {
      if (!(req in props)) add(`required field ${req} is not declared in properties`);
    }
    for (const [name, child] of Object.entries(props)) {
      const childPath = path ? `${path}.${name}` : name;
      if (isRoot && name === "metadata") checkRootMetadata(child, childPath, out);
      else visit(child, childPath, out);
    }
  }
  if (
    type === "object" &&
    node.additionalProperties &&
    typeof node.additionalProperties === "object"
  ) {
    visit(node.additionalProperties as Node, `${path}[*]`, out);
  }
  if (type === "array") {
    if (!node.items || typeof node.items !== "object") add("an array must declare items");
    else visit(node.items as Node, `${path}[]`, out);
  }
}

function checkRootMetadata(node: Node, path: string, out: StructuralProblem[]): void {
  // The apiserver refuses even a description here: "must not specify anything other than name
  // and generateName".
  const allowed = new Set(["type", "properties"]);
  for (const key of Object.keys(node)) {
    if (!allowed.has(key))
      out.push({ path, problem: `metadata may only restrict name and generateName, not ${key}` });
  }
  const props = Object.keys((node.properties as Node | undefined) ?? {});
  for (const p of props) {
    if (p !== "name" && p !== "generateName")
      out.push({ path, problem: `metadata may not declare ${p}` });
  }
  if (node.type !== "object") out.push({ path, problem: "metadata must have type object" });
}

function checkLists(node: Node, add: (p: string) => void): void {
  const listType = node["x-kubernetes-list-type"];
  if (listType === undefined) return;
  if (node.type !== "array") add("x-kubernetes-list-type is only for arrays");
  const items = (node.items ?? {}) as Node;
  if (listType === "set" && items.type === "object") add("a set's items must be scalars");
  if (listType === "map") {
    const keys = node["x-kubernetes-list-map-keys"] as string[] | undefined;
    if (!keys || keys.length === 0) add("list-type map needs x-kubernetes-list-map-keys");
    const props = (items.properties ?? {}) as Record<string, Node>;
    const required = new Set((items.required as string[] | undefined) ?? []);
    for (const k of keys ?? []) {
      if (!props[k]) add(`map key ${k} is not a property of the items`);
      else if (!required.has(k) && props[k].default === undefined)
        add(`map key ${k} must be required or defaulted`);
    }
  } else if (node["x-kubernetes-list-map-keys"] !== undefined) {
    add("x-kubernetes-list-map-keys needs x-kubernetes-list-type map");
  }
}

function checkValidations(node: Node, add: (p: string) => void): void {
  const rules = node["x-kubernetes-validations"];
  if (rules === undefined) return;
  if (!Array.isArray(rules)) {
    add("x-kubernetes-validations must be a list");
    return;
  }
  for (const r of rules as Node[]) {
    if (typeof r.rule !== "string" || r.rule === "") add("a validation needs a rule");
    if (typeof r.message !== "string" || r.message === "" || /[\r\n]/.test(r.message)) {
      add(`validation ${String(r.rule)} needs a one-line message`);
    }
    if (r.fieldPath !== undefined && !String(r.fieldPath).startsWith("."))
      add("fieldPath must start with '.'");
  }
}

function matchesType(value: unknown, node: Node): boolean {
  if (Array.isArray(node.enum) && !node.enum.includes(value)) return false;
  switch (node.type) {
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}
