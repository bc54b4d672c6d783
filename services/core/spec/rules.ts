/**
 * Cross-field rules of the TradingPipeline: each is written once here as a CEL expression (the
 * apiserver enforces it through the CRD's x-kubernetes-validations) and as the TypeScript
 * predicate `holds` (parsePipeline enforces it for `tradepipe run`, `validate` and `render`).
 * IMPORTANT: keep the two halves equivalent; rules.test.ts evaluates both on the same inputs.
 */

import { MAX_NAME_LENGTH, STAGE_NAMES } from "./constants.ts";
import type {
  BrokerSpec,
  DatabaseSpec,
  StrategySpec,
  Toleration,
  TradingPipelineSpec,
} from "./schema.ts";

type Reason = "FieldValueInvalid" | "FieldValueRequired" | "FieldValueForbidden";

/** CrossFieldRule is one rule on the object found at `at`. */
export interface CrossFieldRule<Self = unknown> {
  /** Where the rule sits: a dotted path from the manifest root; `[]` means every list item. */
  at: string;
  /** CEL evaluated with `self` bound to the object at `at` (defaults already applied). */
  rule: string;
  message: string;
  /** Field the error is reported on, relative to `at` (".macdFast"). */
  fieldPath?: string;
  /** False when fieldPath names a field the CRD schema doesn't declare (metadata.name). */
  celFieldPath?: boolean;
  reason?: Reason;
  /** Fields the rule reads, relative to `at`: the rule is skipped while one of them is invalid. */
  uses: string[];
  holds: (self: Self) => boolean;
}

function rule<Self>(r: CrossFieldRule<Self>): CrossFieldRule {
  return r as unknown as CrossFieldRule;
}

const NAME_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const sameReplicas = STAGE_NAMES.slice(1)
  .map((s) => `self.stages.${s}.replicas == self.stages.${STAGE_NAMES[0]}.replicas`)
  .join(" && ");

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  rule<{ metadata: { name: string } }>({
    at: "",
    rule: `self.metadata.name.size() <= ${MAX_NAME_LENGTH}`,
    message: `metadata.name must be at most ${MAX_NAME_LENGTH} characters so every child object name fits Kubernetes limits`,
    fieldPath: ".metadata.name",
    celFieldPath: false,
    uses: [".metadata.name"],
    holds: (self) => self.metadata.name.length <= MAX_NAME_LENGTH,
  }),
  rule<{ metadata: { name: string } }>({
    at: "",
    rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
    message:
      "metadata.name must start with a letter and hold only lower-case letters, digits and '-' (it names Services)",
    fieldPath: ".metadata.name",
    celFieldPath: false,
    uses: [".metadata.name"],
    holds: (self) => NAME_RE.test(self.metadata.name),
  }),
  rule<TradingPipelineSpec>({
    at: "spec",
    rule: `self.placement.topology != 'colocated' || (${sameReplicas})`,
    message:
      "topology colocated runs every stage in one pod, so all stages must have the same replicas",
    fieldPath: ".placement.topology",
    uses: [".placement.topology", ".stages"],
    holds: (self) =>
      self.placement.topology !== "colocated" ||
      STAGE_NAMES.every((s) => self.stages[s].replicas === self.stages[STAGE_NAMES[0]].replicas),
  }),
  rule<BrokerSpec>({
    at: "spec.broker",
    rule: "self.kind != 'alpaca' || has(self.credentialsSecretRef)",
    message: "credentialsSecretRef is required when kind is alpaca",
    fieldPath: ".credentialsSecretRef",
    reason: "FieldValueRequired",
    uses: [".kind", ".credentialsSecretRef"],
    holds: (self) => self.kind !== "alpaca" || self.credentialsSecretRef !== undefined,
  }),
  rule<StrategySpec>({
    at: "spec.strategy",
    rule: "self.macdFast < self.macdSlow",
    message: "macdFast must be less than macdSlow",
    fieldPath: ".macdFast",
    uses: [".macdFast", ".macdSlow"],
    holds: (self) => self.macdFast < self.macdSlow,
  }),
  rule<StrategySpec>({
    at: "spec.strategy",
    rule: "self.rsiOversold < self.rsiOverbought",
    message: "rsiOversold must be less than rsiOverbought",
    fieldPath: ".rsiOversold",
    uses: [".rsiOversold", ".rsiOverbought"],
    holds: (self) => self.rsiOversold < self.rsiOverbought,
  }),
  rule<{ maxAttempts: number; backoffSeconds: number[] }>({
    at: "spec.execution.retries",
    rule: "size(self.backoffSeconds) == self.maxAttempts",
    message: "backoffSeconds must have exactly maxAttempts entries",
    fieldPath: ".backoffSeconds",
    uses: [".backoffSeconds", ".maxAttempts"],
    holds: (self) => self.backoffSeconds.length === self.maxAttempts,
  }),
  rule<DatabaseSpec>({
    at: "spec.database",
    rule: "!self.synchronous || self.instances >= 2",
    message: "synchronous replication needs a standby: set instances >= 2 or synchronous false",
    fieldPath: ".synchronous",
    uses: [".synchronous", ".instances"],
    holds: (self) => !self.synchronous || self.instances >= 2,
  }),
  rule<Toleration>({
    at: "spec.placement.tolerations[]",
    rule: "self.operator == 'Exists' || (has(self.key) && self.key != '')",
    message: "an empty key matches every taint and needs operator Exists",
    fieldPath: ".key",
    uses: [".operator", ".key"],
    holds: (self) => self.operator === "Exists" || (self.key !== undefined && self.key !== ""),
  }),
  rule<Toleration>({
    at: "spec.placement.tolerations[]",
    rule: "self.operator != 'Exists' || !has(self.value) || self.value == ''",
    message: "value must be empty when operator is Exists",
    fieldPath: ".value",
    reason: "FieldValueForbidden",
    uses: [".operator", ".value"],
    holds: (self) => self.operator !== "Exists" || self.value === undefined || self.value === "",
  }),
  rule<Toleration>({
    at: "spec.placement.tolerations[]",
    rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
    message: "tolerationSeconds applies only to effect NoExecute",
    fieldPath: ".tolerationSeconds",
    reason: "FieldValueForbidden",
    uses: [".tolerationSeconds", ".effect"],
    holds: (self) => self.tolerationSeconds === undefined || self.effect === "NoExecute",
  }),
];

/** CelValidation is one entry of a CRD schema node's x-kubernetes-validations. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: Reason;
}

/** celAt returns the CEL validations of the schema node at `at`, for the CRD (see CrossFieldRule.at). */
export function celAt(at: string): CelValidation[] | undefined {
  const found = CROSS_FIELD_RULES.filter((r) => r.at === at).map((r) => {
    const v: CelValidation = { rule: r.rule, message: r.message };
    if (r.fieldPath && r.celFieldPath !== false) v.fieldPath = r.fieldPath;
    if (r.reason) v.reason = r.reason;
    return v;
  });
  return found.length > 0 ? found : undefined;
}
