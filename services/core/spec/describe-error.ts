/**
 * Turns TypeBox validation errors into `path: message` pairs a person can act on
 * ("spec.risk.maxOpenPositions: must be >= 1"), in the dotted form the apiserver also uses.
 */
import type { TSchema } from "@sinclair/typebox";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";

/** SpecError is one problem in a spec, at a dotted path such as `spec.symbols[2]`. */
export interface SpecError {
  path: string;
  message: string;
}

/** pointerToPath turns a JSON pointer ("/spec/symbols/2") into a dotted path ("spec.symbols[2]"). */
export function pointerToPath(pointer: string, base = ""): string {
  let out = base;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (/^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function literalValues(schema: TSchema): unknown[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!anyOf?.every((s) => "const" in s)) return undefined;
  return anyOf.map((s) => s.const);
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownField(error: ValueError): string {
  const parent = error.schema as { properties?: Record<string, TSchema> };
  const known = Object.keys(parent.properties ?? {});
  const field = error.path.split("/").at(-1) ?? "";
  const guess = closest(field, known);
  if (guess) return `unknown field (did you mean "${guess}"?)`;
  return known.length > 0 ? `unknown field (allowed: ${known.join(", ")})` : "unknown field";
}

/** describeError gives the message for one TypeBox error, phrased as what the value must be. */
export function describeError(error: ValueError): string {
  const s = error.schema as Record<string, unknown>;
  const got = ` (got ${shown(error.value)})`;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return unknownField(error);
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.Integer:
      return `must be an integer${got}`;
    case ValueErrorType.Number:
      return `must be a number${got}`;
    case ValueErrorType.String:
      return `${(s.typeHint as string | undefined) ?? "must be a string"}${got}`;
    case ValueErrorType.Boolean:
      return `must be true or false${got}`;
    case ValueErrorType.Object:
      return `must be a mapping${got}`;
    case ValueErrorType.Array:
      return `must be a list${got}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be >= ${s.minimum}${got}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be <= ${s.maximum}${got}`;
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMinimum:
      return `must be > ${s.exclusiveMinimum}${got}`;
    case ValueErrorType.IntegerExclusiveMaximum:
    case ValueErrorType.NumberExclusiveMaximum:
      return `must be < ${s.exclusiveMaximum}${got}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${s.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return `${(s.patternHint as string | undefined) ?? `must match ${s.pattern}`}${got}`;
    case ValueErrorType.StringFormat:
      return `must be a valid ${s.format}${got}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${s.maxItems} items`;
    case ValueErrorType.ObjectMaxProperties:
      return `must have at most ${s.maxProperties} entries`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}${got}`;
    case ValueErrorType.Union: {
      const values = literalValues(error.schema);
      if (values) return `must be one of: ${values.join(", ")}${got}`;
      return `is not valid${got}`;
    }
    default:
      return error.message;
  }
}
