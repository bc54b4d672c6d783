"""Reference values for the feature library's TA-Lib indicators.

Writes services/signal-bridge/strategy/testdata/talib-reference.json: a seeded random walk of
mids and TA-Lib's output for each indicator the library shares with it (high = low = close =
mid, since the library's price is the mid). The TypeScript test feeds the same mids through the
feature computers and compares. Run (needs `ta-lib`, which bundles the TA-Lib C library):

    research/.venv/bin/python research/tools/make_talib_fixture.py
"""

import json
import pathlib

import numpy as np
import talib

OUT = pathlib.Path(__file__).resolve().parents[2] / (
    "services/signal-bridge/strategy/testdata/talib-reference.json"
)


def main() -> None:
    rng = np.random.default_rng(20261207)
    steps = rng.choice([-3, -2, -1, 1, 2, 3], size=800) * 0.01
    mids = np.round(100 + np.cumsum(steps), 2)
    c = mids.astype(np.float64)
    macd, macd_signal, macd_hist = talib.MACD(c, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(c, 20, 2, 2, 0)
    fastk, fastd = talib.STOCHF(c, c, c, 14, 3, 0)
    cases = {
        'sma(period=20)': talib.SMA(c, 20),
        'ema(period=20)': talib.EMA(c, 20),
        'wma(period=20)': talib.WMA(c, 20),
        'dema(period=10)': talib.DEMA(c, 10),
        'tema(period=10)': talib.TEMA(c, 10),
        'trix(period=15)': talib.TRIX(c, 15),
        'momentum(period=10)': talib.MOM(c, 10),
        'roc(period=10)': talib.ROC(c, 10),
        'rsi(period=14)': talib.RSI(c, 14),
        'cmo(period=14)': talib.CMO(c, 14),
        'macd_line(fast=12,signal=9,slow=26)': macd,
        'macd_signal(fast=12,signal=9,slow=26)': macd_signal,
        'macd_hist(fast=12,signal=9,slow=26)': macd_hist,
        'apo(fast=12,slow=26)': talib.APO(c, 12, 26, 1),
        'ppo(fast=12,slow=26)': talib.PPO(c, 12, 26, 1),
        'stddev(period=20)': talib.STDDEV(c, 20, 1),
        'bollinger_zscore(period=20)': (c - middle) / ((upper - middle) / 2),
        'bollinger_pct_b(period=20,stdDev=2)': (c - lower) / (upper - lower),
        'stoch_k(period=14)': fastk,
        'stoch_d(period=14,smooth=3)': fastd,
        'williams_r(period=14)': talib.WILLR(c, c, c, 14),
        'aroon_osc(period=14)': talib.AROONOSC(c, c, 14),
        'linreg_slope(period=14)': talib.LINEARREG_SLOPE(c, 14),
    }
    doc = {
        'generator': 'research/tools/make_talib_fixture.py',
        'talib': talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__),
        'mids': c.tolist(),
        'values': {k: [None if np.isnan(x) else float(x) for x in v] for k, v in cases.items()},
    }
    OUT.write_text(json.dumps(doc, indent=None, separators=(',', ':')) + '\n')
    print(f'wrote {OUT} ({len(cases)} indicators, {len(c)} mids, TA-Lib {doc["talib"]})')


if __name__ == '__main__':
    main()
