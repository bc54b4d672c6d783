/**
 * Small schema builders shared by the TradingPipeline schema files. Each one requires a
 * description, because the CRD must document every field (`kubectl explain` shows them) and the
 * Helm values schema and config/README.md are read by people too.
 */
import { type TLiteral, type TUnion, Type } from "@sinclair/typebox";

/** DECIMAL_PATTERN matches a non-negative decimal string ("50000", "0.25"): money is never a float. */
export const DECIMAL_PATTERN = "^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,9})?$";
/** QUANTITY_PATTERN matches a byte quantity with a binary suffix, the form requests == limits needs. */
export const QUANTITY_PATTERN = "^[1-9][0-9]{0,5}(Ki|Mi|Gi|Ti)$";

/** Decimal is a non-negative amount of money written as a string, so it stays exact end to end. */
export function Decimal(description: string, defaultValue: string) {
  return Type.String({
    description: `${description} A decimal string, e.g. "${defaultValue}".`,
    pattern: DECIMAL_PATTERN,
    maxLength: 25,
    default: defaultValue,
    patternHint: 'must be a non-negative decimal string such as "5000" or "0.25"',
    typeHint: 'must be a quoted decimal string such as "5000"; money is never a float',
  });
}

/** Quantity is a Kubernetes byte quantity with a binary suffix ("1Gi", "512Mi"). */
export function Quantity(description: string, defaultValue: string) {
  return Type.String({
    description: `${description} A quantity with a binary suffix (Ki, Mi, Gi, Ti), e.g. "${defaultValue}".`,
    pattern: QUANTITY_PATTERN,
    maxLength: 9,
    default: defaultValue,
    patternHint: 'must be a whole number with a binary suffix such as "512Mi" or "1Gi"',
  });
}

/** Choice is a string restricted to the given values (rendered as `enum` in the CRD). */
export function Choice<const T extends readonly string[]>(
  values: T,
  description: string,
  defaultValue?: T[number],
): TUnion<TLiteral<T[number]>[]> {
  const options: Record<string, unknown> = { description };
  if (defaultValue !== undefined) options.default = defaultValue;
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

/** Int is a whole number with a description, optional bounds and a default. */
export function Int(
  description: string,
  options: { default?: number; minimum?: number; maximum?: number; format?: "int32" | "int64" },
) {
  return Type.Integer({ description, ...options });
}

/** Num is a (possibly fractional) number with a description, bounds and a default. */
export function Num(
  description: string,
  options: {
    default?: number;
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
  },
) {
  return Type.Number({ description, ...options });
}
