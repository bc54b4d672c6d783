/**
 * The TradingPipeline status, written only by the operator through the status subresource.
 * Conditions follow metav1.Condition (Kubernetes API conventions); `phase` is a one-word summary
 * kept for the printer column.
 */
import { Type } from "@sinclair/typebox";
import { CONDITION_TYPES, PHASES, STAGE_NAMES } from "./constants.ts";
import { Choice, Int } from "./schema-parts.ts";

const Timestamp = (description: string) =>
  Type.String({ description: `${description} RFC 3339 date-time.`, format: "date-time" });

export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: `Condition type: ${CONDITION_TYPES.join(", ")}.`,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
      maxLength: 316,
    }),
    status: Choice(["True", "False", "Unknown"], "Whether the condition holds."),
    observedGeneration: Type.Optional(
      Int("metadata.generation of the spec the condition was computed from.", {
        minimum: 0,
        format: "int64",
      }),
    ),
    lastTransitionTime: Timestamp("When status last changed."),
    reason: Type.String({
      description: "CamelCase machine-readable reason for the last transition.",
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      minLength: 1,
      maxLength: 1024,
    }),
    message: Type.String({
      description: "Human-readable details of the last transition.",
      maxLength: 32768,
    }),
  },
  {
    additionalProperties: false,
    description: "One aspect of the pipeline's state (metav1.Condition).",
  },
);

export const StageStatusSchema = Type.Object(
  {
    name: Choice(STAGE_NAMES, "Stage name."),
    replicas: Type.Optional(Int("Instances that exist.", { minimum: 0 })),
    readyReplicas: Type.Optional(Int("Instances passing their readiness probe.", { minimum: 0 })),
    leader: Type.Optional(
      Type.String({ description: "Pod (or host process) holding the stage lease." }),
    ),
    epoch: Type.Optional(
      Int("Fencing epoch of the current leader; writes with an older epoch are refused.", {
        minimum: 0,
        format: "int64",
      }),
    ),
  },
  { additionalProperties: false, description: "Observed state of one stage." },
);

export const FailoverSchema = Type.Object(
  {
    time: Timestamp("When the promotion happened."),
    from: Type.String({ description: "Pod that was primary before." }),
    to: Type.String({ description: "Pod promoted to primary." }),
    reason: Type.String({ description: "Why: PrimaryUnavailable or Switchover." }),
  },
  { additionalProperties: false, description: "The last database failover or switchover." },
);

export const TradingPipelineStatusSchema = Type.Object(
  {
    phase: Type.Optional(Choice(PHASES, "One-word summary of the conditions, for display.")),
    trading: Type.Optional(
      Type.Boolean({
        description: "True while orders may be sent (all stages ready, kill switch off).",
      }),
    ),
    primary: Type.Optional(Type.String({ description: "Name of the Postgres primary pod." })),
    observedGeneration: Type.Optional(
      Int("metadata.generation of the spec this status reflects.", { minimum: 0, format: "int64" }),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, {
        description: `Current conditions, one per type: ${CONDITION_TYPES.join(", ")}.`,
        maxItems: 16,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
    ),
    stages: Type.Optional(
      Type.Array(StageStatusSchema, {
        description: "Observed state of each stage.",
        maxItems: 5,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      }),
    ),
    lastFailover: Type.Optional(FailoverSchema),
  },
  {
    additionalProperties: false,
    description: "Observed state of the pipeline, written by the operator.",
  },
);
