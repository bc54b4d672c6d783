/**
 * conditions: pure helpers over metav1.Condition lists, following the Kubernetes API
 * conventions. A condition's lastTransitionTime moves only when its status changes; reason,
 * message and observedGeneration follow the latest evaluation.
 */
import type { Condition, ConditionType } from "../../services/core/spec/index.ts";

export type ConditionStatus = Condition["status"];

/** ConditionInput is a condition as evaluated, before it gets its transition time. */
export interface ConditionInput {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * setCondition returns a new list with `input` set. IMPORTANT: lastTransitionTime is kept when the
 * status did not change, so clients can tell how long a condition has held.
 */
export function setCondition(
  conditions: readonly Condition[],
  input: ConditionInput,
  observedGeneration: number,
  now: Date,
): Condition[] {
  if (!REASON_PATTERN.test(input.reason)) {
    throw new Error(`condition ${input.type}: reason "${input.reason}" is not CamelCase`);
  }
  const previous = conditions.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    observedGeneration,
    lastTransitionTime:
      previous && previous.status === input.status ? previous.lastTransitionTime : toRfc3339(now),
    reason: input.reason,
    message: input.message.slice(0, 32768),
  };
  const others = conditions.filter((c) => c.type !== input.type);
  return [...others, next];
}

/** setConditions applies every input in order; the result is sorted by type for stable output. */
export function setConditions(
  conditions: readonly Condition[],
  inputs: readonly ConditionInput[],
  observedGeneration: number,
  now: Date,
): Condition[] {
  let out = [...conditions];
  for (const input of inputs) out = setCondition(out, input, observedGeneration, now);
  return out.sort((a, b) => a.type.localeCompare(b.type));
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/** toRfc3339 drops the milliseconds: metav1.Time has one-second precision. */
export function toRfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
