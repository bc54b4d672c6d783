import numpy as np
import pytest

from tradepipe_research.cv import purged_splits


def test_walk_forward_trains_only_on_the_past_and_purges_overlapping_labels():
    n = 1000
    event = np.arange(n, dtype=np.int64) * 10
    end = event + 55  # each label spans the next ~5 samples
    folds = list(purged_splits(event, end, n_splits=4, embargo_ns=0))
    assert len(folds) == 4
    for train, test in folds:
        assert len(train) > 0 and len(test) > 0
        assert event[train].max() < event[test].min()
        # No training label may reach into the test block.
        assert end[train].max() < event[test].min()
        # And the purge removed only what overlapped: the sample just before the gap is kept.
        assert end[train].max() >= event[test].min() - 10


def test_purged_kfold_embargoes_after_the_test_block():
    n = 600
    event = np.arange(n, dtype=np.int64) * 10
    end = event + 25
    for train, test in purged_splits(event, end, n_splits=2, embargo_ns=100, walk_forward=False):
        test_end = end[test].max()
        after = event[train][event[train] > test_end]
        if len(after):
            assert after.min() > test_end + 100
        assert not np.any((event[train] <= test_end) & (end[train] >= event[test].min()))


def test_refuses_labels_ending_before_their_event():
    with pytest.raises(ValueError, match='label ends before its event'):
        list(purged_splits(np.array([5, 6]), np.array([4, 9])))
