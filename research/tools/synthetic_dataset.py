"""A synthetic feature dataset for tests: Parquet + dataset.json in the trainer's layout.

    python tools/synthetic_dataset.py OUT_DIR NAME,NAME,... FEATURE_HASH [ROWS]

Rows are i.i.d. normal features with a label that depends on the first and third feature, event
times one second apart and labels spanning 30 s (so purging has something to do).
"""

import json
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    out, names, feature_hash = pathlib.Path(sys.argv[1]), sys.argv[2].split(','), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    rng = np.random.default_rng(11)
    x = rng.normal(size=(n, len(names))).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, min(2, len(names) - 1)] + rng.normal(scale=0.7, size=n) > 0).astype(np.int8)
    event = np.arange(n, dtype=np.int64) * 1_000_000_000 + 1_750_000_000_000_000_000
    cols = {name: x[:, i] for i, name in enumerate(names)}
    cols.update(event_ns=event, label_end_ns=event + 30_000_000_000, label=y)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), out / 'part-0.parquet')
    (out / 'dataset.json').write_text(json.dumps({'feature_names': names, 'feature_hash': feature_hash}))


if __name__ == '__main__':
    main()
