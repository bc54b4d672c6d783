/**
 * broker-connection resolves where a stage's broker is and with which keys. For the built-in
 * simulator the local runner passes its base URL in TRADEPIPE_SIM_URL; for Alpaca the URLs come
 * from the spec and the keys from the environment or a mounted Secret (never from the spec).
 */
import type { AlpacaEndpoints } from "../alpaca-client/config.ts";
import { loadCredentials } from "../alpaca-client/credentials.ts";
import { TradepipeError } from "../core/errors.ts";
import type { TradingPipeline } from "../core/spec/index.ts";
import type { BrokerConnection } from "./context.ts";

export function simulatorEndpoints(baseUrl: string, feed = "iex"): AlpacaEndpoints {
  const http = baseUrl.replace(/\/+$/, "");
  const ws = http.replace(/^http/, "ws");
  return {
    tradingUrl: http,
    dataUrl: http,
    tradeStreamUrl: `${ws}/stream`,
    marketDataStreamUrl: `${ws}/v2/${feed}`,
  };
}

export function alpacaEndpoints(pipeline: TradingPipeline): AlpacaEndpoints {
  const b = pipeline.spec.broker;
  const trading = b.tradingUrl.replace(/\/+$/, "");
  return {
    tradingUrl: trading,
    dataUrl: b.historicalDataUrl.replace(/\/+$/, ""),
    tradeStreamUrl: `${trading.replace(/^http/, "ws")}/stream`,
    marketDataStreamUrl: `${b.dataUrl.replace(/\/+$/, "")}/v2/${b.dataFeed}`,
  };
}

export function resolveBrokerConnection(
  pipeline: TradingPipeline,
  env: NodeJS.ProcessEnv = process.env,
): BrokerConnection {
  const kind = pipeline.spec.broker.kind;
  const secretDir = env.TRADEPIPE_BROKER_SECRET_DIR;
  const credentials = loadCredentials({ env, ...(secretDir ? { secretDir } : {}) });
  if (kind === "simulator") {
    const url = env.TRADEPIPE_SIM_URL;
    if (!url) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        "broker.kind is simulator but TRADEPIPE_SIM_URL is not set (tradepipe run sets it)",
      );
    }
    return { kind, endpoints: simulatorEndpoints(url, pipeline.spec.broker.dataFeed), credentials };
  }
  return { kind, endpoints: alpacaEndpoints(pipeline), credentials };
}
