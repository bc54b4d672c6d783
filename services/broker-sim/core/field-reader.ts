/**
 * field-reader: reads typed fields out of parsed JSON and, when one is missing or of the wrong
 * kind, throws an AccountFileError that names it by path (`orders[3].limitPrice`), so a person
 * can find the line to fix.
 */
import { type Fixed, fromDecimal } from "../../core/money.ts";
import { type Nanos, parseTime } from "./time.ts";

const DECIMAL_RE = /^-?\d+(\.\d{1,9})?$/;

/** InvalidDocumentError says what is wrong with a document, naming the field (`orders[3].qty`). */
export class InvalidDocumentError extends Error {
  override name = "InvalidDocumentError";
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "missing";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

/** FieldReader wraps one JSON object (or value) at a path. */
export class FieldReader {
  readonly where: string;
  private readonly value: unknown;

  constructor(value: unknown, where: string) {
    this.value = value;
    this.where = where;
  }

  /** root reads a whole document, which must be a JSON object. */
  static root(doc: unknown): FieldReader {
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new InvalidDocumentError(`the document must be a JSON object, not ${kindOf(doc)}`);
    }
    return new FieldReader(doc, "");
  }

  path(name: string): string {
    if (this.where === "") return name;
    return name.startsWith("[") ? `${this.where}${name}` : `${this.where}.${name}`;
  }

  self(): unknown {
    return this.value;
  }

  raw(name: string): unknown {
    return (this.value as Record<string, unknown>)[name];
  }

  private fail(name: string, expected: string, v: unknown): never {
    throw new InvalidDocumentError(`${this.path(name)}: expected ${expected}, found ${kindOf(v)}`);
  }

  string(name: string): string {
    const v = this.raw(name);
    if (typeof v !== "string" || v === "") this.fail(name, "a non-empty string", v);
    return v;
  }

  stringOrNull(name: string): string | null {
    const v = this.raw(name);
    return v === null ? null : this.string(name);
  }

  integer(name: string): number {
    const v = this.raw(name);
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(name, "an integer", v);
    return v;
  }

  boolean(name: string): boolean {
    const v = this.raw(name);
    if (typeof v !== "boolean") this.fail(name, "true or false", v);
    return v;
  }

  fixed(name: string): Fixed {
    const v = this.raw(name);
    if (typeof v !== "string" || !DECIMAL_RE.test(v)) {
      if (typeof v === "string")
        throw new InvalidDocumentError(`${this.path(name)}: ${JSON.stringify(v)} is not a decimal`);
      this.fail(name, "a decimal string", v);
    }
    return fromDecimal(v);
  }

  fixedOrNull(name: string): Fixed | null {
    return this.raw(name) === null ? null : this.fixed(name);
  }

  time(name: string): Nanos {
    const v = this.raw(name);
    if (typeof v !== "string") this.fail(name, "an RFC-3339 time", v);
    const t = parseTime(v);
    if (t === undefined)
      throw new InvalidDocumentError(
        `${this.path(name)}: ${JSON.stringify(v)} is not an RFC-3339 time`,
      );
    return t;
  }

  timeOrNull(name: string): Nanos | null {
    return this.raw(name) === null ? null : this.time(name);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      throw new InvalidDocumentError(
        `${this.path(name)}: expected one of ${allowed.join(", ")}, found ${typeof v === "string" ? JSON.stringify(v) : kindOf(v)}`,
      );
    }
    return v as T;
  }

  object(name: string): FieldReader {
    const v = this.raw(name);
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(name, "an object", v);
    return new FieldReader(v, this.path(name));
  }

  /** list reads an array; items are objects unless `items` says "number". */
  list(name: string, items: "object" | "number" = "object"): FieldReader[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) this.fail(name, "an array", v);
    return v.map((item, i) => {
      const at = `${this.path(name)}[${i}]`;
      const ok =
        items === "number"
          ? typeof item === "number"
          : typeof item === "object" && item !== null && !Array.isArray(item);
      if (!ok)
        throw new InvalidDocumentError(
          `${at}: expected ${items === "number" ? "a number" : "an object"}, found ${kindOf(item)}`,
        );
      return new FieldReader(item, at);
    });
  }
}
