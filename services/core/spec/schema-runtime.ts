/**
 * The runtime half of the TradingPipeline spec: the broker, the stages' resources, the database,
 * placement on nodes and observability. Secrets never appear here: the broker keys are named by
 * reference (a Kubernetes Secret, or environment variables of the same names locally).
 */
import { Type } from "@sinclair/typebox";
import { STAGE_NAMES, type StageName } from "./constants.ts";
import { celAt } from "./rules.ts";
import { Choice, Decimal, Int, Num, Quantity } from "./schema-parts.ts";

const strict = { additionalProperties: false, default: {} } as const;
const URL_PATTERN = "^(https?|wss?)://[^\\s]+$";
const KEY_PATTERN = "^[-._a-zA-Z0-9]+$";

function Url(description: string, defaultValue: string) {
  return Type.String({
    description,
    default: defaultValue,
    pattern: URL_PATTERN,
    maxLength: 2048,
    patternHint: "must be an http(s):// or ws(s):// URL",
  });
}

export const CredentialsSecretRefSchema = Type.Object(
  {
    name: Type.String({
      description: "Name of the Secret (in the pipeline's namespace) holding the broker API keys.",
      minLength: 1,
      maxLength: 253,
    }),
    keyIdKey: Type.String({
      description:
        "Key in the Secret holding the API key id; locally, the environment variable of the same name.",
      default: "APCA_API_KEY_ID",
      pattern: KEY_PATTERN,
      maxLength: 253,
    }),
    secretKeyKey: Type.String({
      description:
        "Key in the Secret holding the API secret key; locally, the environment variable of the same name.",
      default: "APCA_API_SECRET_KEY",
      pattern: KEY_PATTERN,
      maxLength: 253,
    }),
  },
  {
    additionalProperties: false,
    description: "Reference to the broker API keys. Keys are never written in the spec itself.",
  },
);

export const SimulatorSchema = Type.Object(
  {
    seed: Int(
      "Seed of the simulator's random price paths and fills; the same seed replays the same session.",
      {
        default: 42,
        minimum: 0,
        maximum: 2147483647,
      },
    ),
    speed: Num("Simulated seconds per wall-clock second (1 = real time).", {
      default: 1,
      exclusiveMinimum: 0,
      maximum: 100000,
    }),
    startingCash: Decimal("Cash in the simulated paper account at start, in USD.", "100000"),
    tickIntervalMs: Int("Simulated milliseconds between market-data updates per symbol.", {
      default: 100,
      minimum: 1,
      maximum: 60000,
    }),
  },
  {
    ...strict,
    description:
      "Settings of the built-in Alpaca-compatible simulator (used when kind is simulator).",
  },
);

export const BrokerSchema = Type.Object(
  {
    kind: Choice(
      ["simulator", "alpaca"],
      "simulator: the built-in Alpaca-compatible paper broker and market data; alpaca: Alpaca's API at tradingUrl and dataUrl.",
      "simulator",
    ),
    tradingUrl: Url(
      "Alpaca trading REST base URL (paper by default); the trade_updates stream is derived from it. Used when kind is alpaca.",
      "https://paper-api.alpaca.markets",
    ),
    dataUrl: Url(
      "Alpaca market-data WebSocket base URL; the stream is <dataUrl>/v2/<dataFeed>. Used when kind is alpaca.",
      "wss://stream.data.alpaca.markets",
    ),
    historicalDataUrl: Url(
      "Alpaca market-data REST base URL, for historical bars (indicator warm-up, VaR). Used when kind is alpaca.",
      "https://data.alpaca.markets",
    ),
    dataFeed: Choice(
      ["iex", "sip", "test"],
      "Market-data feed: iex (free), sip (all US exchanges, paid) or test (Alpaca's always-on test stream).",
      "iex",
    ),
    credentialsSecretRef: Type.Optional(CredentialsSecretRefSchema),
    simulator: SimulatorSchema,
  },
  {
    ...strict,
    description: "Where orders go and market data comes from.",
    "x-kubernetes-validations": celAt("spec.broker"),
  },
);

/** resourcesSchema describes the CPU and memory of one instance (a stage's or Postgres'). */
function resourcesSchema(of: string) {
  return Type.Object(
    {
      cpu: Int(
        "Whole CPU cores, requested and limited alike, so the static CPU manager pins them.",
        {
          default: 1,
          minimum: 1,
          maximum: 64,
        },
      ),
      memory: Quantity("Memory, requested and limited alike (Guaranteed QoS).", "1Gi"),
    },
    { ...strict, description: `Compute resources of one ${of}; requests equal limits.` },
  );
}

function stageSchema(name: StageName, role: string) {
  return Type.Object(
    {
      resources: resourcesSchema("stage instance"),
      replicas: Int(
        "Instances of the stage; one is active (holding the stage lease) and the others stand by.",
        { default: 2, minimum: 1, maximum: 5 },
      ),
    },
    { ...strict, description: `The ${name} stage: ${role}.` },
  );
}

const STAGE_ROLES: Record<StageName, string> = {
  marketData: "receives market data and maintains the order books",
  signalBridge: "computes indicators and scores them with the ONNX model",
  riskManager: "runs pre-trade checks, the circuit breaker and the kill switch",
  executionEngine: "sends orders and follows their lifecycle",
  positionTracker: "tracks positions and P&L and reconciles with the broker",
};

export const StagesSchema = Type.Object(
  {
    marketData: stageSchema("marketData", STAGE_ROLES.marketData),
    signalBridge: stageSchema("signalBridge", STAGE_ROLES.signalBridge),
    riskManager: stageSchema("riskManager", STAGE_ROLES.riskManager),
    executionEngine: stageSchema("executionEngine", STAGE_ROLES.executionEngine),
    positionTracker: stageSchema("positionTracker", STAGE_ROLES.positionTracker),
  },
  {
    ...strict,
    description: `Per-stage resources and replicas, one entry per stage: ${STAGE_NAMES.join(", ")}.`,
  },
);

export const DatabaseSchema = Type.Object(
  {
    instances: Int("Postgres instances: one primary plus standbys.", {
      default: 2,
      minimum: 1,
      maximum: 5,
    }),
    synchronous: Type.Boolean({
      description:
        "Commit only once a standby has the write (no acknowledged write lost on failover); needs instances >= 2.",
      default: true,
    }),
    storage: Quantity("Persistent volume size of each instance.", "10Gi"),
    storageClassName: Type.Optional(
      Type.String({
        description: "StorageClass of the volumes; the cluster default when omitted.",
        minLength: 1,
        maxLength: 253,
      }),
    ),
    image: Type.String({
      description:
        "Postgres container image with Patroni 4 (`patroni` on PATH), run as uid 999; operator/postgres/Dockerfile builds one.",
      default: "ghcr.io/tradepipe/postgres-patroni:17-4.1.5",
      minLength: 1,
      maxLength: 512,
    }),
    resources: resourcesSchema("Postgres instance"),
  },
  {
    ...strict,
    description:
      "The pipeline's Postgres. On Kubernetes the operator runs it; locally an embedded Postgres (or DATABASE_URL) is used and only the settings that apply there are read.",
    "x-kubernetes-validations": celAt("spec.database"),
  },
);

export const TolerationSchema = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        description: "Taint key the toleration applies to; empty matches every key (with Exists).",
        maxLength: 253,
      }),
    ),
    operator: Choice(
      ["Exists", "Equal"],
      "Equal matches the taint's value; Exists matches any value.",
      "Equal",
    ),
    value: Type.Optional(
      Type.String({ description: "Taint value to match with operator Equal.", maxLength: 63 }),
    ),
    effect: Type.Optional(
      Choice(
        ["NoSchedule", "PreferNoSchedule", "NoExecute"],
        "Taint effect to match; empty matches every effect.",
      ),
    ),
    tolerationSeconds: Type.Optional(
      Int("How long a NoExecute taint is tolerated before eviction; forever when omitted.", {
        minimum: 0,
        format: "int64",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "A Kubernetes toleration (core/v1 Toleration).",
    "x-kubernetes-validations": celAt("spec.placement.tolerations[]"),
  },
);

export const PlacementSchema = Type.Object(
  {
    nodeSelector: Type.Record(
      Type.String(),
      Type.String({ description: "Label value.", maxLength: 63 }),
      {
        description:
          "Node labels a stage or database pod's node must have (e.g. the trading nodes' label).",
        default: {},
        maxProperties: 32,
      },
    ),
    tolerations: Type.Array(TolerationSchema, {
      description: "Tolerations of the pods, e.g. for the trading nodes' taint.",
      default: [],
      maxItems: 32,
    }),
    topology: Choice(
      ["colocated", "distributed"],
      "colocated: all stages as containers of one pod over ipc:// sockets (lowest latency); distributed: one pod per stage over tcp://.",
      "distributed",
    ),
  },
  {
    ...strict,
    description: "Where the pods run (Kubernetes) and how the stages are grouped into pods.",
  },
);

export const ObservabilitySchema = Type.Object(
  {
    logLevel: Choice(
      ["trace", "debug", "info", "warn", "error", "fatal"],
      "Lowest level of log line written.",
      "info",
    ),
    otlpEndpoint: Type.Optional(
      Type.String({
        description: "OTLP/HTTP endpoint that receives traces; tracing is off when omitted.",
        pattern: "^https?://[^\\s]+$",
        maxLength: 2048,
        patternHint: "must be an http:// or https:// URL",
      }),
    ),
    metricsPort: Int(
      "Port of each process's HTTP server (/metrics, /health, /ready); where stages share a host, each takes the next port in pipeline order.",
      {
        default: 9464,
        minimum: 1024,
        maximum: 65535,
      },
    ),
  },
  { ...strict, description: "Logs, metrics and traces." },
);
