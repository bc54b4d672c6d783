"""Purged and embargoed walk-forward cross-validation.

Each sample i has an event time (when its features were known) and a label end time (the last
moment its label looked at: event time + horizon). Labels that span a horizon overlap their
neighbours, so a plain split leaks the future:

* purging drops from the training set every sample whose label interval [event, label_end]
  overlaps the test block's interval [first test event, last test label end];
* the embargo also drops training samples whose event falls within `embargo_ns` after the test
  block's last label end (serial correlation leaks backwards through features too).

Walk-forward: the samples, sorted by event time, are cut into `n_splits + 1` contiguous blocks;
fold k tests block k + 1 and trains on what came before it (expanding window), after purging.
With `walk_forward=False` every other block trains (purged k-fold; the embargo then matters).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def purged_splits(
    event_ns: np.ndarray,
    label_end_ns: np.ndarray,
    n_splits: int = 5,
    embargo_ns: int = 0,
    walk_forward: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (train_indices, test_indices) into the original arrays, test blocks in time order."""
    event_ns = np.asarray(event_ns, dtype=np.int64)
    label_end_ns = np.asarray(label_end_ns, dtype=np.int64)
    if event_ns.shape != label_end_ns.shape:
        raise ValueError('event_ns and label_end_ns must have the same length')
    if np.any(label_end_ns < event_ns):
        raise ValueError('a label ends before its event (label_end_ns < event_ns)')
    if n_splits < 1:
        raise ValueError(f'n_splits must be >= 1 (got {n_splits})')
    order = np.argsort(event_ns, kind='stable')
    blocks = np.array_split(order, n_splits + 1)
    for k in range(1, n_splits + 1) if walk_forward else range(n_splits + 1):
        test = np.sort(blocks[k])
        if len(test) == 0:
            continue
        test_start = event_ns[test].min()
        test_end = label_end_ns[test].max()
        candidates = (
            np.concatenate(blocks[:k]) if walk_forward else np.concatenate(blocks[:k] + blocks[k + 1 :])
        )
        ev = event_ns[candidates]
        end = label_end_ns[candidates]
        overlaps = (ev <= test_end) & (end >= test_start)
        embargoed = (ev > test_end) & (ev <= test_end + embargo_ns)
        train = np.sort(candidates[~overlaps & ~embargoed])
        yield train, test
