/**
 * applyDefaults fills in missing fields from the schema's `default`s the way the Kubernetes
 * apiserver defaults a custom resource: a missing field takes its default (copied), then the
 * walk continues inside it, so `{}` grows every nested default. Present values are kept as they
 * are, even when invalid (validation reports them). Mutates and returns `value`.
 */
import type { TSchema } from "@sinclair/typebox";

type Json = Record<string, unknown>;

export function applyDefaults(schema: TSchema, value: unknown): unknown {
  const s = schema as Json;
  let v = value;
  if (v === undefined) {
    if (s.default === undefined) return undefined;
    v = structuredClone(s.default);
  }
  if (
    s.type === "object" &&
    s.properties &&
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v)
  ) {
    const obj = v as Json;
    for (const [key, child] of Object.entries(s.properties as Record<string, TSchema>)) {
      const filled = applyDefaults(child, obj[key]);
      if (filled !== undefined) obj[key] = filled;
    }
  } else if (s.type === "array" && s.items && Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = applyDefaults(s.items as TSchema, v[i]) ?? v[i];
  }
  return v;
}
