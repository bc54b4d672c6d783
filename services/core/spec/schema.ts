/**
 * The TradingPipeline schema: the one definition from which the CRD (crds/), the Helm values
 * schema and `tradepipe validate` / `tradepipe run` input checks are all derived. Field
 * definitions live in schema-trading.ts, schema-runtime.ts and schema-status.ts; cross-field
 * rules in rules.ts.
 */
import { type Static, Type } from "@sinclair/typebox";
import { API_VERSION, KIND } from "./constants.ts";
import { celAt } from "./rules.ts";
import {
  BrokerSchema,
  DatabaseSchema,
  ObservabilitySchema,
  PlacementSchema,
  StagesSchema,
} from "./schema-runtime.ts";
import { TradingPipelineStatusSchema } from "./schema-status.ts";
import {
  AggregationSchema,
  ExecutionSchema,
  PositionsSchema,
  RiskSchema,
  StrategiesSchema,
  StrategySchema,
} from "./schema-trading.ts";

/** DEFAULT_SYMBOLS are the reference universe traded when the spec names none. */
export const DEFAULT_SYMBOLS = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"];
export const DEFAULT_IMAGE = "ghcr.io/tradepipe/tradepipe:0.1.0";

export const TradingPipelineSpecSchema = Type.Object(
  {
    broker: BrokerSchema,
    symbols: Type.Array(
      Type.String({
        description: "A US equity ticker in upper case, e.g. AAPL or BRK.B.",
        pattern: "^[A-Z][A-Z0-9.]{0,9}$",
        maxLength: 10,
        patternHint: "must be an upper-case ticker such as AAPL or BRK.B",
      }),
      {
        description: "Symbols the pipeline trades; each appears once.",
        default: DEFAULT_SYMBOLS,
        minItems: 1,
        maxItems: 500,
        "x-kubernetes-list-type": "set",
      },
    ),
    image: Type.String({
      description: "Container image that runs every stage (one image, one role per subcommand).",
      default: DEFAULT_IMAGE,
      minLength: 1,
      maxLength: 512,
    }),
    stages: StagesSchema,
    strategy: StrategySchema,
    strategies: StrategiesSchema,
    aggregation: AggregationSchema,
    risk: RiskSchema,
    execution: ExecutionSchema,
    positions: PositionsSchema,
    database: DatabaseSchema,
    placement: PlacementSchema,
    observability: ObservabilitySchema,
    killSwitch: Type.Boolean({
      description:
        "When true, no new orders are sent and open orders are cancelled, within a second, on every rendering.",
      default: false,
    }),
  },
  {
    additionalProperties: false,
    description:
      "Desired state of the trading pipeline; every field has a default, so {} is a valid spec.",
    "x-kubernetes-validations": celAt("spec"),
  },
);

export const ObjectMetaSchema = Type.Object(
  {
    name: Type.String({
      description:
        "Name of the pipeline: lower-case letters, digits and '-', starting with a letter, at most 30 characters.",
      minLength: 1,
    }),
    namespace: Type.Optional(
      Type.String({ description: "Namespace of the pipeline (Kubernetes only)." }),
    ),
    labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Labels." })),
    annotations: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: "Annotations." }),
    ),
  },
  {
    // An object read back from the apiserver carries uid, generation, managedFields and more.
    additionalProperties: true,
    description: "Standard object metadata; only name is required.",
  },
);

export const TradingPipelineSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: `API version: ${API_VERSION}.` }),
    kind: Type.Literal(KIND, { description: `Kind: ${KIND}.` }),
    metadata: ObjectMetaSchema,
    spec: TradingPipelineSpecSchema,
    status: Type.Optional(TradingPipelineStatusSchema),
  },
  {
    additionalProperties: false,
    description: "TradingPipeline describes one algorithmic trading pipeline and its five stages.",
    "x-kubernetes-validations": celAt(""),
  },
);

export { TradingPipelineStatusSchema };

export type TradingPipelineSpec = Static<typeof TradingPipelineSpecSchema>;
export type TradingPipelineStatus = Static<typeof TradingPipelineStatusSchema>;
export type TradingPipeline = Static<typeof TradingPipelineSchema>;
export type BrokerSpec = TradingPipelineSpec["broker"];
export type StagesSpec = TradingPipelineSpec["stages"];
export type StageSpec = StagesSpec["marketData"];
export type StrategySpec = TradingPipelineSpec["strategy"];
export type StrategyEntrySpec = TradingPipelineSpec["strategies"][number];
export type AggregationSpec = TradingPipelineSpec["aggregation"];
export type RiskSpec = TradingPipelineSpec["risk"];
export type ExecutionSpec = TradingPipelineSpec["execution"];
export type PositionsSpec = TradingPipelineSpec["positions"];
export type DatabaseSpec = TradingPipelineSpec["database"];
export type PlacementSpec = TradingPipelineSpec["placement"];
export type Toleration = PlacementSpec["tolerations"][number];
export type ObservabilitySpec = TradingPipelineSpec["observability"];
export type Condition = NonNullable<TradingPipelineStatus["conditions"]>[number];
export type StageStatus = NonNullable<TradingPipelineStatus["stages"]>[number];
