"""Train a signal model from a feature dataset and export it to ONNX for the signal-bridge.

    python -m tradepipe_research.train --dataset DIR --out DIR [--splits 5] [--embargo-s 60]
        [--storage postgresql+psycopg://user:pw@host/db --study NAME --trials N] [--rounds 200]

The dataset is one or more Parquet files in DIR with `event_ns` (when the row's features were
known), `label_end_ns` (the last moment its label looked at), `label` (0/1) and the feature
columns (float32, in model order; `dataset.json` beside them may name them and carry
`feature_hash`). Steps, each timed on stderr:

1. purged, embargoed walk-forward CV (cv.py) of LightGBM and of a logistic-regression baseline;
2. with --storage, an Optuna study (TPE) in that database tunes LightGBM on the same folds: several
   workers given the same --storage and --study share one study (load_if_exists);
3. LightGBM refit on every row with the best parameters, exported (export.py) with metadata:
   feature names, feature hash, dtype/shape, training window, CV metrics, code version and golden
   rows with their LightGBM scores; written content-addressed as OUT/<sha256-16>.onnx.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import time

import lightgbm as lgb
import numpy as np
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .cv import purged_splits
from .export import export_lightgbm, threshold_rows

META_COLUMNS = {'event_ns', 'label_end_ns', 'label', 'symbol', 'mid', 'forward_return', 'barrier_label'}
DEFAULT_PARAMS = {
    'objective': 'binary',
    'num_leaves': 15,
    'learning_rate': 0.05,
    'min_data_in_leaf': 20,
    'feature_fraction': 0.9,
    'verbose': -1,
    'num_threads': 1,
    'seed': 1,
}


def log(msg: str) -> None:
    print(f'train: {msg}', file=sys.stderr, flush=True)


def load_dataset(path: pathlib.Path):
    files = sorted(path.glob('*.parquet')) if path.is_dir() else [path]
    if not files:
        raise SystemExit(f'train: no Parquet files in {path}')
    table = pq.read_table(files[0]) if len(files) == 1 else None
    if table is None:
        import pyarrow as pa

        table = pa.concat_tables([pq.read_table(f) for f in files])
    for need in ('event_ns', 'label_end_ns', 'label'):
        if need not in table.column_names:
            raise SystemExit(f'train: {path} has no column "{need}" (it has {", ".join(table.column_names)})')
    info_path = (path if path.is_dir() else path.parent) / 'dataset.json'
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    names = info.get('feature_names') or [c for c in table.column_names if c not in META_COLUMNS]
    x = np.column_stack([table[c].to_numpy(zero_copy_only=False).astype(np.float32) for c in names])
    label = table['label'].to_numpy(zero_copy_only=False)
    keep = ~np.isnan(x).any(axis=1) & ~np.isnan(label.astype(np.float64))
    return (
        x[keep],
        label[keep].astype(int),
        table['event_ns'].to_numpy()[keep].astype(np.int64),
        table['label_end_ns'].to_numpy()[keep].astype(np.int64),
        names,
        info,
    )


def cross_validate(fit_predict, x, y, event, end, splits, embargo_ns):
    aucs, losses = [], []
    for train, test in purged_splits(event, end, n_splits=splits, embargo_ns=embargo_ns):
        if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            continue
        p = np.clip(fit_predict(x[train], y[train], x[test]), 1e-7, 1 - 1e-7)
        aucs.append(roc_auc_score(y[test], p))
        losses.append(log_loss(y[test], p))
    if not aucs:
        raise SystemExit('train: no fold had both classes in train and test (too few rows?)')
    return {'auc': float(np.mean(aucs)), 'auc_std': float(np.std(aucs)), 'logloss': float(np.mean(losses)),
            'folds': len(aucs)}


def lightgbm_fit_predict(params, rounds):
    def run(xt, yt, xv):
        # LightGBM sees the float32 features widened to float64 exactly as ONNX Runtime will.
        booster = lgb.train(params, lgb.Dataset(xt.astype(np.float64), yt), num_boost_round=rounds)
        return booster.predict(xv.astype(np.float64))

    return run


def logistic_fit_predict(xt, yt, xv):
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(xt, yt)
    return model.predict_proba(xv)[:, 1]


def code_version() -> str:
    try:
        return subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def main(argv: list[str] | None = None) -> pathlib.Path:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--dataset', required=True, type=pathlib.Path)
    ap.add_argument('--out', required=True, type=pathlib.Path)
    ap.add_argument('--splits', type=int, default=5)
    ap.add_argument('--embargo-s', type=float, default=60.0)
    ap.add_argument('--rounds', type=int, default=200)
    ap.add_argument('--storage', help='Optuna storage URL (the project Postgres: postgresql+psycopg://...)')
    ap.add_argument('--study', default='tradepipe-signal')
    ap.add_argument('--trials', type=int, default=20)
    ap.add_argument('--golden-rows', type=int, default=8)
    ap.add_argument('--threshold-rows', type=pathlib.Path,
                    help='also write rows at every split threshold with LightGBM scores (JSON) for parity tests')
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    x, y, event, end, names, info = load_dataset(a.dataset)
    log(f'loaded {len(y)} rows x {len(names)} features from {a.dataset} in {time.perf_counter() - t0:.1f} s')
    embargo_ns = int(a.embargo_s * 1e9)

    t = time.perf_counter()
    baseline = cross_validate(logistic_fit_predict, x, y, event, end, a.splits, embargo_ns)
    log(f'logistic baseline, purged walk-forward CV ({a.splits} folds): AUC {baseline["auc"]:.4f} '
        f'logloss {baseline["logloss"]:.4f} in {time.perf_counter() - t:.1f} s')

    params = dict(DEFAULT_PARAMS)
    if a.storage:
        import optuna

        t = time.perf_counter()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name=a.study, storage=a.storage, direction='maximize',
                                    load_if_exists=True, sampler=optuna.samplers.TPESampler(seed=1))

        def objective(trial):
            p = dict(DEFAULT_PARAMS)
            p['num_leaves'] = trial.suggest_int('num_leaves', 4, 63, log=True)
            p['learning_rate'] = trial.suggest_float('learning_rate', 0.01, 0.3, log=True)
            p['min_data_in_leaf'] = trial.suggest_int('min_data_in_leaf', 5, 200, log=True)
            p['feature_fraction'] = trial.suggest_float('feature_fraction', 0.5, 1.0)
            return cross_validate(lightgbm_fit_predict(p, a.rounds), x, y, event, end, a.splits, embargo_ns)['auc']

        study.optimize(objective, n_trials=a.trials)
        params.update(study.best_params)
        log(f'optuna study "{a.study}": {len(study.trials)} trials in the storage, best AUC '
            f'{study.best_value:.4f} with {study.best_params}; {a.trials} trials here in {time.perf_counter() - t:.1f} s')

    t = time.perf_counter()
    metrics = cross_validate(lightgbm_fit_predict(params, a.rounds), x, y, event, end, a.splits, embargo_ns)
    log(f'LightGBM, purged walk-forward CV: AUC {metrics["auc"]:.4f} logloss {metrics["logloss"]:.4f} '
        f'in {time.perf_counter() - t:.1f} s')

    t = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(x.astype(np.float64), y), num_boost_round=a.rounds)
    golden = x[np.linspace(0, len(x) - 1, a.golden_rows).astype(int)]
    metadata = {
        'feature_names': ','.join(names),
        'feature_hash': str(info.get('feature_hash', '')),
        'input_dtype': 'float32',
        'input_shape': f'[1,{len(names)}]',
        'training_window_ns': f'{int(event.min())}..{int(end.max())}',
        'metrics': json.dumps({'lightgbm': metrics, 'logistic': baseline}),
        'code_version': code_version(),
        'params': json.dumps({k: v for k, v in params.items() if k not in ('verbose',)}),
        'golden_rows': json.dumps([[float(v) for v in r] for r in golden]),
        'golden_scores': json.dumps([float(s) for s in booster.predict(golden.astype(np.float64))]),
    }
    model = export_lightgbm(booster, len(names), metadata)
    data = model.SerializeToString()
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f'{hashlib.sha256(data).hexdigest()[:16]}.onnx'
    path.write_bytes(data)
    log(f'refit on {len(y)} rows and exported {path} ({len(data)} bytes) in {time.perf_counter() - t:.1f} s; '
        f'total {time.perf_counter() - t0:.1f} s')
    if a.threshold_rows:
        rows = threshold_rows(booster, golden[0])
        a.threshold_rows.write_text(json.dumps({'rows': rows.tolist(),
                                                'scores': booster.predict(rows.astype(np.float64)).tolist()}))
        log(f'wrote {len(rows)} threshold rows to {a.threshold_rows}')
    print(path)
    return path


if __name__ == '__main__':
    main()
