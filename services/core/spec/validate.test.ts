import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultSpec, formatErrors, parsePipeline, parseSpec } from "./validate.ts";

/** manifest builds a TradingPipeline whose spec is `spec` (defaults fill the rest). */
function manifest(spec: unknown, name = "demo"): Record<string, unknown> {
  return { apiVersion: "tradepipe.io/v1alpha1", kind: "TradingPipeline", metadata: { name }, spec };
}

function errorsOf(input: unknown): { path: string; message: string }[] {
  const result = parsePipeline(input);
  assert.equal(result.ok, false, "expected the input to be refused");
  return result.ok ? [] : result.errors;
}

describe("defaults", () => {
  it("are the reference values of the product", () => {
    const spec = defaultSpec();
    assert.equal(spec.broker.kind, "simulator");
    assert.equal(spec.broker.tradingUrl, "https://paper-api.alpaca.markets");
    assert.equal(spec.broker.dataFeed, "iex");
    assert.deepEqual(spec.symbols, ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]);
    assert.deepEqual(spec.strategy, {
      rsiPeriod: 14,
      rsiOverbought: 70,
      rsiOversold: 30,
      macdFast: 12,
      macdSlow: 26,
      macdSignal: 9,
      bollingerPeriod: 20,
      bollingerStdDev: 2,
      modelRef: "config/models/signal.onnx",
      minConfidence: 0.6,
      orderQty: 10,
    });
    assert.equal(spec.risk.maxPositionShares, 1000);
    assert.equal(spec.risk.maxNotionalPerSymbol, "50000");
    assert.equal(spec.risk.maxOpenPositions, 5);
    assert.equal(spec.risk.maxDailyLoss, "5000");
    assert.equal(spec.risk.maxVar99, "10000");
    assert.equal(spec.risk.maxSectorConcentration, 0.3);
    assert.deepEqual(spec.execution, {
      maxOrdersPerMinute: 180,
      maxSlippageBps: 50,
      retries: { maxAttempts: 3, backoffSeconds: [1, 2, 4] },
    });
    assert.deepEqual(spec.positions, {
      reconcileIntervalSeconds: 300,
      drawdownAlertPct: 5,
      snapshotIntervalSeconds: 3600,
      fees: {
        secPerMillion: "0",
        tafPerShare: "0.000166",
        tafMaxPerTrade: "8.3",
        catPerShare: "0.0000265",
      },
    });
    assert.equal(spec.database.instances, 2);
    assert.equal(spec.database.synchronous, true);
    assert.equal(spec.database.storage, "10Gi");
    assert.equal(spec.database.image, "ghcr.io/tradepipe/postgres-patroni:17-4.1.5");
    assert.equal(spec.placement.topology, "distributed");
    assert.equal(spec.killSwitch, false);
    for (const stage of Object.values(spec.stages)) {
      assert.deepEqual(stage, { resources: { cpu: 1, memory: "1Gi" }, replicas: 2 });
    }
  });

  it("fill every field of an empty spec and keep what is given", () => {
    const result = parsePipeline(manifest({ risk: { maxOpenPositions: 7 } }));
    assert.ok(result.ok);
    assert.equal(result.pipeline.spec.risk.maxOpenPositions, 7);
    assert.equal(result.pipeline.spec.risk.maxDailyLoss, "5000");
    assert.equal(result.pipeline.spec.risk.circuitBreaker.cooldownSeconds, 300);
  });

  it("do not change the caller's object", () => {
    const input = manifest({});
    parsePipeline(input);
    assert.deepEqual(input.spec, {});
  });

  it("apply to YAML text as to objects", () => {
    const text =
      "apiVersion: tradepipe.io/v1alpha1\nkind: TradingPipeline\nmetadata: {name: x}\nspec: {}\n";
    const fromText = parsePipeline(text);
    const fromObject = parsePipeline(manifest({}, "x"));
    assert.deepEqual(fromText, fromObject);
  });
});

describe("invalid specs: one error, with its path", () => {
  const cases: [string, unknown, string, string][] = [
    [
      "negative count",
      { risk: { maxOpenPositions: -1 } },
      "spec.risk.maxOpenPositions",
      "must be >= 1 (got -1)",
    ],
    [
      "zero count",
      { risk: { maxOpenPositions: 0 } },
      "spec.risk.maxOpenPositions",
      "must be >= 1 (got 0)",
    ],
    [
      "negative money",
      { risk: { maxDailyLoss: "-5000" } },
      "spec.risk.maxDailyLoss",
      'must be a non-negative decimal string such as "5000" or "0.25" (got "-5000")',
    ],
    [
      "money as a number",
      { risk: { maxVar99: 10000 } },
      "spec.risk.maxVar99",
      'must be a quoted decimal string such as "5000"; money is never a float (got 10000)',
    ],
    [
      "fractional CPUs",
      { stages: { marketData: { resources: { cpu: 1.5 } } } },
      "spec.stages.marketData.resources.cpu",
      "must be an integer (got 1.5)",
    ],
    [
      "zero CPUs",
      { stages: { riskManager: { resources: { cpu: 0 } } } },
      "spec.stages.riskManager.resources.cpu",
      "must be >= 1 (got 0)",
    ],
    [
      "memory without a unit",
      { stages: { signalBridge: { resources: { memory: "1000" } } } },
      "spec.stages.signalBridge.resources.memory",
      'must be a whole number with a binary suffix such as "512Mi" or "1Gi" (got "1000")',
    ],
    [
      "zero replicas",
      { stages: { executionEngine: { replicas: 0 } } },
      "spec.stages.executionEngine.replicas",
      "must be >= 1 (got 0)",
    ],
    [
      "unknown stage",
      { stages: { orderRouter: {} } },
      "spec.stages.orderRouter",
      "unknown field (allowed: marketData, signalBridge, riskManager, executionEngine, positionTracker)",
    ],
    [
      "misspelt field",
      { risk: { maxOpenPosition: 3 } },
      "spec.risk.maxOpenPosition",
      'unknown field (did you mean "maxOpenPositions"?)',
    ],
    [
      "inline secret",
      { broker: { apiKey: "not-a-real-key" } },
      "spec.broker.apiKey",
      "unknown field (allowed: kind, tradingUrl, dataUrl, historicalDataUrl, dataFeed, credentialsSecretRef, simulator)",
    ],
    [
      "bad enum",
      { broker: { kind: "ibkr" } },
      "spec.broker.kind",
      'must be one of: simulator, alpaca (got "ibkr")',
    ],
    [
      "bad feed",
      { broker: { dataFeed: "otc" } },
      "spec.broker.dataFeed",
      'must be one of: iex, sip, test (got "otc")',
    ],
    [
      "bad topology",
      { placement: { topology: "spread" } },
      "spec.placement.topology",
      'must be one of: colocated, distributed (got "spread")',
    ],
    [
      "lower-case symbol",
      { symbols: ["AAPL", "msft"] },
      "spec.symbols[1]",
      'must be an upper-case ticker such as AAPL or BRK.B (got "msft")',
    ],
    [
      "duplicate symbol",
      { symbols: ["AAPL", "NVDA", "AAPL"] },
      "spec.symbols[2]",
      "duplicate of spec.symbols[0]",
    ],
    ["no symbols", { symbols: [] }, "spec.symbols", "must have at least 1 item"],
    [
      "ratio above one",
      { risk: { maxSectorConcentration: 1.5 } },
      "spec.risk.maxSectorConcentration",
      "must be <= 1 (got 1.5)",
    ],
    [
      "ratio of zero",
      { risk: { maxSectorConcentration: 0 } },
      "spec.risk.maxSectorConcentration",
      "must be > 0 (got 0)",
    ],
    [
      "kill switch as text",
      { killSwitch: "yes" },
      "spec.killSwitch",
      'must be true or false (got "yes")',
    ],
    [
      "bad URL",
      { broker: { tradingUrl: "paper-api" } },
      "spec.broker.tradingUrl",
      'must be an http(s):// or ws(s):// URL (got "paper-api")',
    ],
    [
      "secret ref without name",
      { broker: { credentialsSecretRef: {} } },
      "spec.broker.credentialsSecretRef.name",
      "is required",
    ],
    // Cross-field rules (the same ones the CRD states in CEL).
    [
      "macdFast >= macdSlow",
      { strategy: { macdFast: 26 } },
      "spec.strategy.macdFast",
      "macdFast must be less than macdSlow",
    ],
    [
      "rsiOversold >= rsiOverbought",
      { strategy: { rsiOversold: 80 } },
      "spec.strategy.rsiOversold",
      "rsiOversold must be less than rsiOverbought",
    ],
    [
      "backoff list shorter than attempts",
      { execution: { retries: { maxAttempts: 4 } } },
      "spec.execution.retries.backoffSeconds",
      "backoffSeconds must have exactly maxAttempts entries",
    ],
    [
      "alpaca without keys",
      { broker: { kind: "alpaca" } },
      "spec.broker.credentialsSecretRef",
      "credentialsSecretRef is required when kind is alpaca",
    ],
    [
      "synchronous without standby",
      { database: { instances: 1 } },
      "spec.database.synchronous",
      "synchronous replication needs a standby: set instances >= 2 or synchronous false",
    ],
    [
      "colocated with uneven replicas",
      { placement: { topology: "colocated" }, stages: { riskManager: { replicas: 3 } } },
      "spec.placement.topology",
      "topology colocated runs every stage in one pod, so all stages must have the same replicas",
    ],
    [
      "toleration value with Exists",
      { placement: { tolerations: [{ key: "k", operator: "Exists", value: "v" }] } },
      "spec.placement.tolerations[0].value",
      "value must be empty when operator is Exists",
    ],
    [
      "toleration without key",
      { placement: { tolerations: [{ value: "v" }] } },
      "spec.placement.tolerations[0].key",
      "an empty key matches every taint and needs operator Exists",
    ],
    [
      "tolerationSeconds without NoExecute",
      {
        placement: {
          tolerations: [{ key: "k", value: "v", effect: "NoSchedule", tolerationSeconds: 5 }],
        },
      },
      "spec.placement.tolerations[0].tolerationSeconds",
      "tolerationSeconds applies only to effect NoExecute",
    ],
  ];
  for (const [name, spec, path, message] of cases) {
    it(name, () => {
      assert.deepEqual(errorsOf(manifest(spec)), [{ path, message }]);
    });
  }
});

describe("the manifest envelope", () => {
  it("needs metadata.name", () => {
    const input = {
      apiVersion: "tradepipe.io/v1alpha1",
      kind: "TradingPipeline",
      metadata: {},
      spec: {},
    };
    assert.deepEqual(errorsOf(input), [{ path: "metadata.name", message: "is required" }]);
  });

  it("needs metadata and spec", () => {
    const input = { apiVersion: "tradepipe.io/v1alpha1", kind: "TradingPipeline" };
    assert.deepEqual(errorsOf(input), [
      { path: "metadata", message: "is required" },
      { path: "spec", message: "is required" },
    ]);
  });

  it("checks apiVersion and kind", () => {
    const input = {
      apiVersion: "tradepipe.io/v1",
      kind: "Pipeline",
      metadata: { name: "a" },
      spec: {},
    };
    assert.deepEqual(errorsOf(input), [
      { path: "apiVersion", message: 'must be "tradepipe.io/v1alpha1" (got "tradepipe.io/v1")' },
      { path: "kind", message: 'must be "TradingPipeline" (got "Pipeline")' },
    ]);
  });

  it("refuses names that can't name child objects", () => {
    assert.deepEqual(errorsOf(manifest({}, "a".repeat(31))), [
      {
        path: "metadata.name",
        message:
          "metadata.name must be at most 30 characters so every child object name fits Kubernetes limits",
      },
    ]);
    assert.deepEqual(errorsOf(manifest({}, "prod.eu")), [
      {
        path: "metadata.name",
        message:
          "metadata.name must start with a letter and hold only lower-case letters, digits and '-' (it names Services)",
      },
    ]);
  });

  it("accepts an object read back from the apiserver, status included", () => {
    const input = {
      ...manifest({}),
      metadata: {
        name: "demo",
        namespace: "trading",
        uid: "u-1",
        generation: 3,
        resourceVersion: "17",
      },
      status: {
        phase: "Running",
        trading: true,
        primary: "demo-db-1",
        observedGeneration: 3,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "AllReady",
            message: "",
            lastTransitionTime: "2026-11-24T22:00:00Z",
            observedGeneration: 3,
          },
        ],
        stages: [
          {
            name: "marketData",
            replicas: 2,
            readyReplicas: 2,
            leader: "demo-market-data-0",
            epoch: 4,
          },
        ],
      },
    };
    const result = parsePipeline(input);
    assert.ok(result.ok, result.ok ? "" : formatErrors(result.errors));
  });

  it("refuses duplicate condition types and bad timestamps in status", () => {
    const condition = {
      type: "Ready",
      status: "True",
      reason: "R",
      message: "",
      lastTransitionTime: "yesterday",
    };
    const input = {
      ...manifest({}),
      status: {
        conditions: [condition, { ...condition, lastTransitionTime: "2026-11-24T22:00:00Z" }],
      },
    };
    assert.deepEqual(errorsOf(input), [
      {
        path: "status.conditions[0].lastTransitionTime",
        message: 'must be a valid date-time (got "yesterday")',
      },
      { path: "status.conditions[1]", message: "duplicate of status.conditions[0]" },
    ]);
  });

  it("is not a mapping", () => {
    assert.deepEqual(errorsOf("- a\n- b\n"), [
      { path: "", message: "must be a TradingPipeline manifest" },
    ]);
    assert.deepEqual(errorsOf(null), [{ path: "", message: "must be a TradingPipeline manifest" }]);
  });
});

describe("all errors at once", () => {
  it("reports every problem, schema and cross-field, in one pass", () => {
    const errors = errorsOf(
      manifest({
        risk: { maxOpenPositions: 0, maxDailyLoss: "-1" },
        stages: { marketData: { resources: { cpu: 2.5 } } },
        strategy: { macdFast: 40 },
        broker: { kind: "alpaca" },
        bogus: true,
      }),
    );
    assert.deepEqual(errors.map((e) => e.path).sort(), [
      "spec.bogus",
      "spec.broker.credentialsSecretRef",
      "spec.risk.maxDailyLoss",
      "spec.risk.maxOpenPositions",
      "spec.stages.marketData.resources.cpu",
      "spec.strategy.macdFast",
    ]);
  });

  it("skips a cross-field rule whose fields are already invalid", () => {
    const errors = errorsOf(manifest({ strategy: { macdFast: "fast" } }));
    assert.deepEqual(errors, [
      { path: "spec.strategy.macdFast", message: 'must be an integer (got "fast")' },
    ]);
  });
});

describe("YAML input", () => {
  it("reports syntax errors with their line, not a stack trace", () => {
    const errors = errorsOf("apiVersion: tradepipe.io/v1alpha1\nspec: {risk: [\n");
    assert.equal(errors.length >= 1, true);
    assert.match(errors[0]!.path, /^\(yaml line \d+, column \d+\)$/);
  });

  it("refuses duplicate keys", () => {
    const errors = errorsOf("apiVersion: a\napiVersion: b\n");
    assert.match(errors[0]!.message, /unique/i);
  });
});

describe("parseSpec", () => {
  it("validates a bare spec with spec.-prefixed paths", () => {
    const result = parseSpec({ risk: { maxOpenPositions: 0 } });
    assert.deepEqual(result, {
      ok: false,
      errors: [{ path: "spec.risk.maxOpenPositions", message: "must be >= 1 (got 0)" }],
    });
  });

  it("applies the spec-level cross-field rules but not the manifest's", () => {
    const result = parseSpec({ strategy: { macdFast: 30 } });
    assert.deepEqual(result, {
      ok: false,
      errors: [{ path: "spec.strategy.macdFast", message: "macdFast must be less than macdSlow" }],
    });
    assert.deepEqual(parseSpec({}), { ok: true, spec: defaultSpec() });
  });
});
