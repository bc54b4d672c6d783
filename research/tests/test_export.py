"""The float32-threshold trap, tested: rows placed exactly at LightGBM's thresholds."""

import lightgbm as lgb
import numpy as np
import onnxruntime as ort
import pytest

from tradepipe_research.export import export_lightgbm, floor_float32, threshold_rows


def _train(seed=7, n=3000, d=8):
    rng = np.random.default_rng(seed)
    # Float64 features with many digits: almost no threshold is an exact float32.
    x = rng.normal(size=(n, d)) * np.array([1, 10, 0.01, 100, 1, 3, 0.5, 1e-3])
    y = ((x[:, 0] + x[:, 1] / 10 - x[:, 3] / 100 + rng.normal(scale=0.5, size=n)) > 0).astype(int)
    booster = lgb.train(
        {'objective': 'binary', 'num_leaves': 15, 'learning_rate': 0.1, 'verbose': -1, 'num_threads': 1,
         'min_data_in_leaf': 5},
        lgb.Dataset(x, y),
        num_boost_round=60,
    )
    return booster, x


def _threshold_rows(booster, x):
    return threshold_rows(booster, x[0])


def _onnx_scores(model, rows):
    sess = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])
    return sess.run(['score'], {'features': rows})[0][:, 0]


def test_scores_match_lightgbm_within_1e6_at_every_threshold():
    booster, x = _train()
    rows = _threshold_rows(booster, x)
    assert len(rows) > 500
    expected = booster.predict(rows.astype(np.float64))
    got = _onnx_scores(export_lightgbm(booster, x.shape[1]), rows)
    diff = np.abs(got - expected)
    assert diff.max() <= 1e-6, f'max |Δ| {diff.max()} at row {diff.argmax()}'


def test_the_plain_converter_would_diverge_on_the_same_rows(monkeypatch):
    # Proves the rows above exercise the trap: without the nudge, scores differ visibly.
    import tradepipe_research.export as export

    monkeypatch.setattr(export, 'nudge_thresholds', lambda model, booster: 0)
    booster, x = _train()
    rows = _threshold_rows(booster, x)
    got = _onnx_scores(export.export_lightgbm(booster, x.shape[1]), rows)
    assert np.abs(got - booster.predict(rows.astype(np.float64))).max() > 1e-3


def test_export_has_the_live_stages_names_and_shape():
    booster, x = _train(n=500)
    model = export_lightgbm(booster, x.shape[1], {'feature_names': 'a,b'})
    assert [i.name for i in model.graph.input] == ['features']
    assert [o.name for o in model.graph.output] == ['score']
    assert {p.key: p.value for p in model.metadata_props}['feature_names'] == 'a,b'
    assert _onnx_scores(model, x[:3].astype(np.float32)).shape == (3,)


@pytest.mark.parametrize('t', [0.1, 1 / 3, 1e-7, -2.5, 123456.789])
def test_floor_float32_is_the_largest_float32_not_above(t):
    f = floor_float32(t)
    assert float(f) <= t
    assert float(np.nextafter(f, np.float32(np.inf))) > t
