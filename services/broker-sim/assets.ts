/**
 * assets: the simulator's default tradable universe and how asset records are made for any
 * other symbol a caller lists. Asset ids are derived from the symbol alone, so they are the same
 * in every run whatever the seed.
 */
import type { Asset } from "./core/broker.ts";
import { createPrng } from "./core/prng.ts";

/** DEFAULT_SYMBOLS maps each default symbol to its starting price in dollars. */
export const DEFAULT_SYMBOLS: Record<string, number> = {
  AAPL: 190,
  MSFT: 410,
  NVDA: 120,
  AMZN: 180,
  GOOGL: 170,
  META: 480,
  TSLA: 250,
  SPY: 520,
  QQQ: 440,
  FAKEPACA: 100,
};

const NAMES: Record<string, [string, string]> = {
  AAPL: ["Apple Inc. Common Stock", "NASDAQ"],
  MSFT: ["Microsoft Corporation Common Stock", "NASDAQ"],
  NVDA: ["NVIDIA Corporation Common Stock", "NASDAQ"],
  AMZN: ["Amazon.com, Inc. Common Stock", "NASDAQ"],
  GOOGL: ["Alphabet Inc. Class A Common Stock", "NASDAQ"],
  META: ["Meta Platforms, Inc. Class A Common Stock", "NASDAQ"],
  TSLA: ["Tesla, Inc. Common Stock", "NASDAQ"],
  SPY: ["SPDR S&P 500 ETF Trust", "ARCA"],
  QQQ: ["Invesco QQQ Trust, Series 1", "NASDAQ"],
  FAKEPACA: ["Alpaca test symbol", "NASDAQ"],
};

export function assetFor(symbol: string): Asset {
  const [name, exchange] = NAMES[symbol] ?? [`${symbol} (simulated)`, "NASDAQ"];
  return {
    id: createPrng(0, `asset:${symbol}`).uuid(),
    symbol,
    name,
    exchange,
    tradable: true,
    shortable: true,
    marginable: true,
    fractionable: true,
    easyToBorrow: true,
  };
}

/** resolveSymbols accepts a list of symbols (default prices, else 100) or a symbol → price map. */
export function resolveSymbols(
  input: string[] | Record<string, number> | undefined,
): Record<string, number> {
  if (input === undefined) return { ...DEFAULT_SYMBOLS };
  if (Array.isArray(input)) {
    const out: Record<string, number> = {};
    for (const s of input) out[s.toUpperCase()] = DEFAULT_SYMBOLS[s.toUpperCase()] ?? 100;
    return out;
  }
  const out: Record<string, number> = {};
  for (const [s, p] of Object.entries(input)) out[s.toUpperCase()] = p;
  return out;
}
