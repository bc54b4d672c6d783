/**
 * The trading half of the TradingPipeline spec: strategy parameters, risk limits, execution
 * settings and position tracking. Defaults are the product's reference values; money is a decimal
 * string (see DECIMAL_PATTERN), counts are integers, ratios are fractions unless the name says Pct.
 */
import { Type } from "@sinclair/typebox";
import { DEFAULT_FEE_RATES } from "../fees.ts";
import { celAt } from "./rules.ts";
import { Choice, DECIMAL_PATTERN, Decimal, Int, Num } from "./schema-parts.ts";

const strict = { additionalProperties: false, default: {} } as const;

export const StrategySchema = Type.Object(
  {
    rsiPeriod: Int("RSI lookback in bars.", { default: 14, minimum: 2, maximum: 1000 }),
    rsiOverbought: Num(
      "RSI level at or above which the instrument counts as overbought (sell bias).",
      {
        default: 70,
        minimum: 0,
        maximum: 100,
      },
    ),
    rsiOversold: Num("RSI level at or below which the instrument counts as oversold (buy bias).", {
      default: 30,
      minimum: 0,
      maximum: 100,
    }),
    macdFast: Int("MACD fast EMA period in bars; must be less than macdSlow.", {
      default: 12,
      minimum: 1,
      maximum: 1000,
    }),
    macdSlow: Int("MACD slow EMA period in bars.", { default: 26, minimum: 2, maximum: 1000 }),
    macdSignal: Int("MACD signal-line EMA period in bars.", {
      default: 9,
      minimum: 1,
      maximum: 1000,
    }),
    bollingerPeriod: Int("Bollinger band moving-average period in bars.", {
      default: 20,
      minimum: 2,
      maximum: 1000,
    }),
    bollingerStdDev: Num("Bollinger band width in standard deviations.", {
      default: 2,
      exclusiveMinimum: 0,
      maximum: 10,
    }),
    modelRef: Type.String({
      description:
        "Path of the ONNX signal model, relative to the working directory (locally) or to the image's root (in a container).",
      default: "config/models/signal.onnx",
      minLength: 1,
      maxLength: 1024,
    }),
    minConfidence: Num(
      "Minimum model confidence (0 to 1) for a signal to become an order intent.",
      {
        default: 0.6,
        minimum: 0,
        maximum: 1,
      },
    ),
    orderQty: Int("Shares per order placed on a signal.", {
      default: 10,
      minimum: 1,
      maximum: 1000000,
    }),
  },
  {
    ...strict,
    description:
      "Signal generation: indicator periods and thresholds, and the ONNX model that scores them.",
    "x-kubernetes-validations": celAt("spec.strategy"),
  },
);

/** STRATEGY_ID_PATTERN: a strategy id is a metric label and part of log lines. */
export const STRATEGY_ID_PATTERN = "^[a-z][a-z0-9-]{0,39}$";
export const MAX_STRATEGIES = 16;

export const StrategyEntrySchema = Type.Object(
  {
    id: Type.String({
      description:
        "Name of this use of a strategy: lower-case letters, digits and '-', at most 40 characters, unique in the pipeline. Carried on the signals it leads (strategy_id) and in metrics.",
      pattern: STRATEGY_ID_PATTERN,
      maxLength: 40,
      patternHint: "must start with a letter and hold only lower-case letters, digits and '-'",
    }),
    module: Type.String({
      description:
        "The strategy's code: builtin:<name> for a strategy shipped with tradepipe (rules-model, ma-crossover, opening-range-breakout, model-features), or the path of a module exporting a defineStrategy() definition, absolute or relative to the working directory (locally) or to the image's root (in a container).",
      minLength: 1,
      maxLength: 1024,
    }),
    params: Type.Object(
      {},
      {
        additionalProperties: true,
        default: {},
        description:
          "Parameters, checked at start against the schema the strategy declares (defaults applied). For builtin:rules-model they override the fields of spec.strategy.",
        "x-kubernetes-preserve-unknown-fields": true,
      },
    ),
    weight: Num("Weight of the strategy's decisions in the per-symbol vote.", {
      default: 1,
      exclusiveMinimum: 0,
      maximum: 1000,
    }),
    role: Choice(
      ["vote", "veto"] as const,
      "vote: takes part in the weighted vote; veto: never votes, but its decision against the vote's direction on the same quote blocks the signal.",
      "vote",
    ),
    budgetShares: Int(
      "Largest intended position, in shares per symbol, the strategy may drive through its votes (0: no budget).",
      { default: 0, minimum: 0, maximum: 100000000 },
    ),
  },
  { additionalProperties: false, description: "One strategy the signal-bridge runs." },
);

export const StrategiesSchema = Type.Array(StrategyEntrySchema, {
  description:
    "Strategies the signal-bridge runs and aggregates per symbol. Empty (the default): the built-in rules-model strategy alone, configured by spec.strategy.",
  default: [],
  maxItems: MAX_STRATEGIES,
  // The apiserver refuses two entries with one id; the signal-bridge's loader does elsewhere.
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["id"],
});

export const AggregationSchema = Type.Object(
  {
    minConfidence: Num(
      "Confidence (0 to 1) the weighted vote of the strategies needs to become a signal.",
      { default: 0, minimum: 0, maximum: 1 },
    ),
    signalCooldownSeconds: Int(
      "Seconds of event time after a symbol's signal during which no other signal for that symbol is published (HOLD cool-down); 0: no cool-down. The default pipeline (config/pipeline.yaml) sets 60 so a first run trades at a readable pace.",
      { default: 0, minimum: 0, maximum: 86400 },
    ),
  },
  {
    ...strict,
    description:
      "How the strategies' decisions on one quote become one signal: weighted vote, veto, threshold, per-symbol cool-down, per-strategy budget (services/signal-bridge/README.md).",
  },
);

export const CircuitBreakerSchema = Type.Object(
  {
    failureThreshold: Int(
      "Failures (broker errors or rejected orders) within windowSeconds that open the breaker.",
      {
        default: 5,
        minimum: 1,
        maximum: 10000,
      },
    ),
    windowSeconds: Int("Sliding window, in seconds, over which failures are counted.", {
      default: 60,
      minimum: 1,
      maximum: 86400,
    }),
    cooldownSeconds: Int("Seconds the breaker stays open (no new orders) before it half-opens.", {
      default: 300,
      minimum: 1,
      maximum: 86400,
    }),
  },
  {
    ...strict,
    description: "The risk manager's circuit breaker: stops new orders after repeated failures.",
  },
);

export const RiskSchema = Type.Object(
  {
    maxPositionShares: Int("Largest absolute position in one symbol, in shares.", {
      default: 1000,
      minimum: 1,
      maximum: 100000000,
    }),
    maxNotionalPerSymbol: Decimal(
      "Largest absolute position value in one symbol, in USD.",
      "50000",
    ),
    maxOpenPositions: Int("Most symbols with a non-zero position at once.", {
      default: 5,
      minimum: 1,
      maximum: 10000,
    }),
    maxDailyLoss: Decimal(
      "Realised plus unrealised loss in one trading day, in USD, at which trading halts.",
      "5000",
    ),
    maxVar99: Decimal(
      "Largest 99% one-day historical Value at Risk of the portfolio, in USD.",
      "10000",
    ),
    varWindowDays: Int("Trading days of returns used for the historical VaR.", {
      default: 252,
      minimum: 20,
      maximum: 2520,
    }),
    maxSectorConcentration: Num(
      "Largest fraction (0 to 1] of gross exposure in one sector (config/sectors.yaml).",
      {
        default: 0.3,
        exclusiveMinimum: 0,
        maximum: 1,
      },
    ),
    circuitBreaker: CircuitBreakerSchema,
  },
  {
    ...strict,
    description: "Pre-trade risk limits enforced by the risk manager on every order intent.",
  },
);

export const RetriesSchema = Type.Object(
  {
    maxAttempts: Int("Retries after a failed submission (not counting the first attempt).", {
      default: 3,
      minimum: 0,
      maximum: 10,
    }),
    backoffSeconds: Type.Array(
      Int("Delay before one retry, in seconds.", { minimum: 0, maximum: 3600 }),
      {
        description: "Delay before each retry, in seconds; exactly maxAttempts entries.",
        default: [1, 2, 4],
        maxItems: 10,
      },
    ),
  },
  {
    ...strict,
    description:
      "Retry policy for order submissions; the deterministic client_order_id makes retries safe.",
    "x-kubernetes-validations": celAt("spec.execution.retries"),
  },
);

export const ExecutionSchema = Type.Object(
  {
    maxOrdersPerMinute: Int(
      "Order submissions allowed per minute (a token bucket), below Alpaca's 200/min.",
      {
        default: 180,
        minimum: 1,
        maximum: 10000,
      },
    ),
    maxSlippageBps: Int(
      "Largest fill-price slippage from the decision price, in basis points, before an alert.",
      {
        default: 50,
        minimum: 0,
        maximum: 10000,
      },
    ),
    retries: RetriesSchema,
  },
  { ...strict, description: "Order lifecycle settings of the execution engine." },
);

/** FeesSchema: the regulatory fee rates booked on every fill (services/core/fees.ts). */
export const FeesSchema = Type.Object(
  {
    secPerMillion: Decimal(
      "SEC transaction fee on sells, in USD per $1,000,000 of principal.",
      DEFAULT_FEE_RATES.secPerMillion,
    ),
    tafPerShare: Decimal(
      "FINRA Trading Activity Fee on sells, in USD per share.",
      DEFAULT_FEE_RATES.tafPerShare,
    ),
    tafMaxPerTrade: Decimal(
      "Largest FINRA Trading Activity Fee of one order, in USD.",
      DEFAULT_FEE_RATES.tafMaxPerTrade,
    ),
    catPerShare: Decimal(
      "Consolidated Audit Trail fee on buys and sells, in USD per executed share (rounded up to a whole share).",
      DEFAULT_FEE_RATES.catPerShare,
    ),
  },
  {
    ...strict,
    description:
      "Regulatory fees booked into realized P&L and daily loss; set them to the broker's current published rates.",
  },
);

export const PositionsSchema = Type.Object(
  {
    reconcileIntervalSeconds: Int(
      "Seconds between reconciliations of local positions with the broker's.",
      {
        default: 300,
        minimum: 1,
        maximum: 86400,
      },
    ),
    drawdownAlertPct: Num(
      "Drawdown from peak equity, in percent (5 means 5%), that raises an alert.",
      {
        default: 5,
        exclusiveMinimum: 0,
        maximum: 100,
      },
    ),
    snapshotIntervalSeconds: Int("Seconds between position snapshots written to the database.", {
      default: 3600,
      minimum: 1,
      maximum: 86400,
    }),
    fees: FeesSchema,
    sharedAccountCapital: Type.Optional(
      Type.String({
        description:
          "Set when other pipelines trade on the same broker account: this pipeline's capital in USD (e.g. \"50000\"). Equity is then this capital plus the pipeline's own P&L, and the account's cash (shared) is not used. Unset: the pipeline owns the account and equity is its cash plus positions.",
        pattern: DECIMAL_PATTERN,
        maxLength: 25,
        patternHint: 'must be a non-negative decimal string such as "50000"',
        typeHint: 'must be a quoted decimal string such as "50000"; money is never a float',
      }),
    ),
  },
  { ...strict, description: "Position tracking: P&L, reconciliation with the broker, drawdown." },
);
