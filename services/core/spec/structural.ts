/**
 * Converts the TypeBox schema into the two dialects it is published in:
 * - "crd": a Kubernetes structural schema (every node typed, no additionalProperties next to
 *   properties, enums instead of anyOf, OpenAPI 3.0 boolean exclusiveMinimum, CEL kept);
 * - "json-schema": plain JSON Schema draft-07 for Helm's values.schema.json.
 * Only the keywords listed below are copied, so TypeBox internals and hints never leak out.
 */
import type { TSchema } from "@sinclair/typebox";
import { applyDefaults } from "./defaults.ts";

export type Dialect = "crd" | "json-schema";
type Json = Record<string, unknown>;

const COPIED = [
  "description",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
] as const;
const CRD_ONLY = [
  "x-kubernetes-validations",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
];

/** convertSchema returns `schema` in the given dialect. */
export function convertSchema(schema: TSchema, dialect: Dialect): Json {
  const s = schema as Json;
  const out: Json = {};
  const literals = literalsOf(s);
  if (literals) {
    out.type = jsonType(literals[0]);
    out.enum = literals;
  } else if (s.patternProperties) {
    // A TypeBox Record: a map with free keys.
    out.type = "object";
    const [valueSchema] = Object.values(s.patternProperties as Record<string, TSchema>);
    out.additionalProperties = convertSchema(valueSchema!, dialect);
  } else if (s.type === "object") {
    out.type = "object";
    const props = (s.properties ?? {}) as Record<string, TSchema>;
    // An object with no declared fields (free-form, x-kubernetes-preserve-unknown-fields) gets
    // no `properties`: the apiserver drops an empty one when it stores the CRD, and a CRD applied
    // by two server-side appliers (kubectl, then helm) then conflicted on .spec.versions.
    if (Object.keys(props).length > 0 || s["x-kubernetes-preserve-unknown-fields"] !== true) {
      out.properties = Object.fromEntries(
        Object.entries(props).map(([k, v]) => [k, convertSchema(v, dialect)]),
      );
    }
    // A field with a default is filled in before validation: listing it as required would only
    // mislead `kubectl explain` readers.
    const required = ((s.required as string[] | undefined) ?? []).filter(
      (k) => props[k] && (props[k] as Json).default === undefined,
    );
    if (required.length > 0) out.required = [...required];
    if (dialect === "json-schema" && s.additionalProperties === false) {
      out.additionalProperties = false;
    }
  } else if (s.type === "array") {
    out.type = "array";
    out.items = convertSchema(s.items as TSchema, dialect);
  } else if (typeof s.type === "string") {
    out.type = s.type;
  } else {
    throw new Error(`schema node without a single type: ${JSON.stringify(s).slice(0, 200)}`);
  }
  for (const key of COPIED) {
    if (s[key] === undefined) continue;
    if (key === "default" && dialect === "crd" && out.type === "object") {
      // The apiserver checks a default against the node's CEL rules without first applying the
      // nested defaults, so `default: {}` would fail `self.macdFast < self.macdSlow`: write the
      // object's default out in full.
      out.default = applyDefaults(schema, structuredClone(s.default));
      continue;
    }
    if (key === "format" && !keepFormat(out.type as string, s.format as string, dialect)) continue;
    out[key] = structuredClone(s[key]);
  }
  for (const bound of ["exclusiveMinimum", "exclusiveMaximum"] as const) {
    if (typeof s[bound] !== "number") continue;
    if (dialect === "json-schema") out[bound] = s[bound];
    else {
      out[bound === "exclusiveMinimum" ? "minimum" : "maximum"] = s[bound];
      out[bound] = true;
    }
  }
  if (dialect === "crd") {
    for (const key of CRD_ONLY) if (s[key] !== undefined) out[key] = structuredClone(s[key]);
  }
  return orderKeys(out);
}

function literalsOf(s: Json): unknown[] | undefined {
  if ("const" in s) return [s.const];
  const anyOf = s.anyOf as Json[] | undefined;
  if (anyOf?.every((o) => "const" in o)) return anyOf.map((o) => o.const);
  return undefined;
}

function jsonType(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** keepFormat keeps int32/int64 (OpenAPI only) for the CRD and date-time for both dialects. */
function keepFormat(type: string, format: string, dialect: Dialect): boolean {
  if (type === "integer") return dialect === "crd" && (format === "int32" || format === "int64");
  return format === "date-time";
}

const ORDER = ["type", "description", "enum", "format", "default"];

/** orderKeys puts type and description first, so the generated YAML reads well. */
function orderKeys(o: Json): Json {
  const keys = Object.keys(o).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

function rank(key: string): number {
  const i = ORDER.indexOf(key);
  if (i >= 0) return i;
  if (key === "properties" || key === "items" || key === "additionalProperties") return 90;
  if (key === "required") return 91;
  if (key.startsWith("x-kubernetes")) return 95;
  return 50;
}
