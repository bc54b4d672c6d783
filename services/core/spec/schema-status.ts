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
    time: Timestamp("When the operator saw the new leader."),
    from: Type.String({ description: "Pod that was primary before." }),
    to: Type.String({ description: "Pod promoted to primary." }),
    reason: Type.String({ description: "Why: Failover (Patroni promoted) or Switchover." }),
  },
  { additionalProperties: false, description: "The last database failover or switchover." },
);

export const SwitchoverRequestSchema = Type.Object(
  {
    time: Timestamp("When Patroni accepted the request."),
    from: Type.String({ description: "The leader when the operator asked." }),
    to: Type.String({ description: "The member Patroni was asked to promote." }),
  },
  {
    additionalProperties: false,
    description:
      "A switchover Patroni accepted, kept until the operator sees the leader change, which it then records as a Switchover (also after an operator restart).",
  },
);

export const DatabaseMemberStatusSchema = Type.Object(
  {
    name: Type.String({ description: "Database pod." }),
    role: Type.String({ description: "Patroni's role for it: primary, replica, …" }),
    state: Type.String({ description: "Patroni's state: running, streaming, starting, …" }),
    timeline: Type.Optional(Int("Postgres timeline.", { minimum: 0, format: "int64" })),
    lagBytes: Type.Optional(Int("WAL bytes behind the leader.", { minimum: 0, format: "int64" })),
    pendingRestart: Type.Optional(
      Type.Boolean({ description: "A configuration change waits for a restart of this member." }),
    ),
  },
  { additionalProperties: false, description: "One Postgres member as Patroni reports it." },
);

export const DatabaseStatusSchema = Type.Object(
  {
    leader: Type.Optional(Type.String({ description: "Pod Patroni elected leader." })),
    timeline: Type.Optional(Int("The leader's timeline.", { minimum: 0, format: "int64" })),
    members: Type.Array(DatabaseMemberStatusSchema, {
      description: "Every database member.",
      maxItems: 5,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    }),
  },
  { additionalProperties: false, description: "Patroni's view of the pipeline's Postgres." },
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
    switchover: Type.Optional(SwitchoverRequestSchema),
    database: Type.Optional(DatabaseStatusSchema),
  },
  {
    additionalProperties: false,
    description: "Observed state of the pipeline, written by the operator.",
  },
);
