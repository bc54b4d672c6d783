"""End to end in Python: dataset -> purged CV -> Optuna (in the test Postgres) -> ONNX with metadata."""

import json
import os
import uuid

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa
import pyarrow.parquet as pq

from tradepipe_research.train import main


def _storage(tmp_path):
    url = os.environ.get('TRADEPIPE_TEST_DATABASE_URL')
    if not url:  # run by hand without the test Postgres: a local file with the same schema
        return f'sqlite:///{tmp_path}/optuna.db'
    return url.replace('postgres://', 'postgresql+psycopg://', 1).replace('postgresql://', 'postgresql+psycopg://', 1)


def _dataset(path, n=3000, d=6):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 2] + rng.normal(scale=0.7, size=n) > 0).astype(np.int8)
    event = np.arange(n, dtype=np.int64) * 1_000_000_000 + 1_750_000_000_000_000_000
    cols = {f'f{i}': x[:, i] for i in range(d)}
    cols.update(event_ns=event, label_end_ns=event + 30_000_000_000, label=y)
    path.mkdir()
    pq.write_table(pa.table(cols), path / 'part-0.parquet')
    (path / 'dataset.json').write_text(json.dumps({'feature_names': [f'f{i}' for i in range(d)],
                                                   'feature_hash': 'abc123'}))
    return x


def test_trains_tunes_and_exports_a_model_with_its_metadata(tmp_path):
    x = _dataset(tmp_path / 'ds')
    study = f'test-{uuid.uuid4().hex[:8]}'
    path = main(['--dataset', str(tmp_path / 'ds'), '--out', str(tmp_path / 'models'), '--splits', '3',
                 '--rounds', '40', '--storage', _storage(tmp_path), '--study', study, '--trials', '3'])
    import optuna

    storage = _storage(tmp_path)
    assert len(optuna.load_study(study_name=study, storage=storage).trials) == 3
    if os.environ.get('TRADEPIPE_TEST_DATABASE_URL'):
        assert storage.startswith('postgresql+psycopg://')
    data = path.read_bytes()
    import hashlib

    assert path.name == hashlib.sha256(data).hexdigest()[:16] + '.onnx'
    model = onnx.load_from_string(data)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['feature_names'] == 'f0,f1,f2,f3,f4,f5'
    assert meta['feature_hash'] == 'abc123'
    assert meta['input_dtype'] == 'float32'
    metrics = json.loads(meta['metrics'])
    assert metrics['lightgbm']['auc'] > 0.7 and metrics['logistic']['auc'] > 0.7
    rows = np.array(json.loads(meta['golden_rows']), dtype=np.float32)
    expected = np.array(json.loads(meta['golden_scores']))
    sess = ort.InferenceSession(data, providers=['CPUExecutionProvider'])
    got = sess.run(['score'], {'features': rows})[0][:, 0]
    assert np.abs(got - expected).max() <= 1e-6
    assert len(rows) == 8 and x.shape[1] == rows.shape[1]
