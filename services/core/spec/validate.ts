/**
 * parsePipeline checks a TradingPipeline manifest (YAML text or a parsed object), applies the
 * defaults and returns either the complete pipeline or every error with its path. It never
 * throws on bad input: the caller decides how to show the errors.
 */
import type { TSchema } from "@sinclair/typebox";
import { FormatRegistry } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { parseDocument, type YAMLError } from "yaml";
import { applyDefaults } from "./defaults.ts";
import { describeError, pointerToPath, type SpecError } from "./describe-error.ts";
import { CROSS_FIELD_RULES, type CrossFieldRule } from "./rules.ts";
import {
  type TradingPipeline,
  TradingPipelineSchema,
  type TradingPipelineSpec,
  TradingPipelineSpecSchema,
} from "./schema.ts";

export type { SpecError };
export type ParseResult =
  | { ok: true; pipeline: TradingPipeline }
  | { ok: false; errors: SpecError[] };
export type SpecParseResult =
  | { ok: true; spec: TradingPipelineSpec }
  | { ok: false; errors: SpecError[] };

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set("date-time", (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));
}

/** parsePipeline validates a full manifest (apiVersion, kind, metadata, spec[, status]). */
export function parsePipeline(input: unknown): ParseResult {
  const loaded = typeof input === "string" ? parseYaml(input) : { ok: true as const, value: input };
  if (!loaded.ok) return loaded;
  const result = check(TradingPipelineSchema, loaded.value, "");
  return result.ok ? { ok: true, pipeline: result.value as TradingPipeline } : result;
}

/** parseSpec validates only a spec (the Helm values, or a spec taken out of its manifest). */
export function parseSpec(input: unknown): SpecParseResult {
  const loaded = typeof input === "string" ? parseYaml(input) : { ok: true as const, value: input };
  if (!loaded.ok) return loaded;
  const result = check(TradingPipelineSpecSchema, loaded.value, "spec");
  return result.ok ? { ok: true, spec: result.value as TradingPipelineSpec } : result;
}

/** defaultSpec returns the spec of `{}`: every field at its default. */
export function defaultSpec(): TradingPipelineSpec {
  return applyDefaults(TradingPipelineSpecSchema, {}) as TradingPipelineSpec;
}

/** formatErrors renders errors one per line as `path: message`. */
export function formatErrors(errors: readonly SpecError[]): string {
  return errors.map((e) => `${e.path || "(document)"}: ${e.message}`).join("\n");
}

function parseYaml(
  text: string,
): { ok: true; value: unknown } | { ok: false; errors: SpecError[] } {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map(yamlError) };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
}

/** yamlError turns a YAML syntax error into a SpecError whose path is the line and column. */
export function yamlError(e: YAMLError): SpecError {
  const where = e.linePos?.[0];
  const path = where ? `(yaml line ${where.line}, column ${where.col})` : "(yaml)";
  if (e.code === "MULTIPLE_DOCS")
    return { path, message: "one TradingPipeline per file: found a second document" };
  const first = e.message.split("\n")[0] ?? e.code;
  return { path, message: first.replace(/ at line \d+, column \d+:?$/, "") };
}

type Checked = { ok: true; value: unknown } | { ok: false; errors: SpecError[] };

function check(schema: TSchema, input: unknown, base: string): Checked {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    const what = base === "" ? "a TradingPipeline manifest" : "a mapping";
    return { ok: false, errors: [{ path: base, message: `must be ${what}` }] };
  }
  const value = applyDefaults(schema, structuredClone(input));
  const errors = schemaErrors(schema, value, base);
  errors.push(...listErrors(schema, value, base));
  errors.push(...ruleErrors(value, base, errors));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

const compiled = new Map<TSchema, TypeCheck<TSchema>>();

/** fastCheck runs the compiled validator: the common, valid case costs microseconds. */
function fastCheck(schema: TSchema, value: unknown): boolean {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check.Check(value);
}

function schemaErrors(schema: TSchema, value: unknown, base: string): SpecError[] {
  if (fastCheck(schema, value)) return [];
  const seen = new Set<string>();
  const out: SpecError[] = [];
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(error.path, base);
    // A missing field yields "required" then "expected string": the first says it all.
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, message: describeError(error) });
  }
  return out;
}

/** listErrors enforces x-kubernetes-list-type set / map uniqueness, which JSON Schema can't say. */
function listErrors(schema: TSchema, value: unknown, path: string): SpecError[] {
  const out: SpecError[] = [];
  const s = schema as Record<string, unknown>;
  if (Array.isArray(value) && s.items) {
    const keys = s["x-kubernetes-list-map-keys"] as string[] | undefined;
    const listType = s["x-kubernetes-list-type"];
    if (listType === "set" || (listType === "map" && keys)) {
      const firstAt = new Map<string, number>();
      value.forEach((item, i) => {
        const key = JSON.stringify(
          listType === "set" ? item : keys!.map((k) => (item as Record<string, unknown>)?.[k]),
        );
        const first = firstAt.get(key);
        if (first === undefined) firstAt.set(key, i);
        else out.push({ path: `${path}[${i}]`, message: `duplicate of ${path}[${first}]` });
      });
    }
    value.forEach((item, i) => {
      out.push(...listErrors(s.items as TSchema, item, `${path}[${i}]`));
    });
  } else if (value && typeof value === "object" && s.properties) {
    for (const [name, sub] of Object.entries(s.properties as Record<string, TSchema>)) {
      const child = (value as Record<string, unknown>)[name];
      if (child !== undefined) out.push(...listErrors(sub, child, path ? `${path}.${name}` : name));
    }
  }
  return out;
}

function ruleErrors(value: unknown, base: string, earlier: SpecError[]): SpecError[] {
  const out: SpecError[] = [];
  for (const rule of CROSS_FIELD_RULES) {
    for (const target of locate(rule, value, base)) {
      // A rule reading a field that already failed its schema would only add noise (or misread it).
      const used = rule.uses.map((u) => join(target.path, u));
      const broken = earlier.some((e) =>
        used.some((u) => isWithin(e.path, u) || isWithin(u, e.path)),
      );
      if (broken || holds(rule, target.self)) continue;
      out.push({ path: join(target.path, rule.fieldPath ?? ""), message: rule.message });
    }
  }
  return out;
}

/** holds treats a rule that can't be evaluated as holding: its inputs are reported elsewhere. */
function holds(rule: CrossFieldRule, self: unknown): boolean {
  try {
    return rule.holds(self);
  } catch {
    return true;
  }
}

function join(path: string, relative: string): string {
  const field = relative.replace(/^\./, "");
  return [path, field].filter((p) => p !== "").join(".");
}

function isWithin(path: string, ancestor: string): boolean {
  return (
    ancestor === "" ||
    path === ancestor ||
    path.startsWith(`${ancestor}.`) ||
    path.startsWith(`${ancestor}[`)
  );
}

/** locate finds the objects a rule applies to, relative to a value rooted at `base`. */
function locate(
  rule: CrossFieldRule,
  root: unknown,
  base: string,
): { path: string; self: unknown }[] {
  if (!isWithin(rule.at, base) && rule.at !== base) return [];
  const rest = rule.at === base ? "" : rule.at.slice(base === "" ? 0 : base.length + 1);
  let targets = [{ path: base, self: root }];
  for (const seg of rest.split(".").filter((s) => s !== "")) {
    const list = seg.endsWith("[]");
    const name = list ? seg.slice(0, -2) : seg;
    const next: { path: string; self: unknown }[] = [];
    for (const t of targets) {
      const child = (t.self as Record<string, unknown> | undefined)?.[name];
      const childPath = t.path ? `${t.path}.${name}` : name;
      if (child === undefined || child === null) continue;
      if (!list) next.push({ path: childPath, self: child });
      else if (Array.isArray(child)) {
        child.forEach((item, i) => {
          next.push({ path: `${childPath}[${i}]`, self: item });
        });
      }
    }
    targets = next;
  }
  return targets.filter((t) => t.self !== null && typeof t.self === "object");
}
