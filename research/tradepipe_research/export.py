"""ONNX export of a LightGBM binary classifier for the signal-bridge.

The live stage feeds a `features` float32[1, n] tensor and reads a `score` float32[1, 1] (the
probability of the positive class), so the export is onnxmltools' converter (zipmap=False, no
ZipMap map output, which onnxruntime-node cannot read) plus a Slice of probabilities[:, 1:2].

The float32-threshold trap: LightGBM splits with `x <= t` in float64, while the ONNX tree
ensemble stores each t as float32, and onnxmltools rounds it to the NEAREST float32. When that
rounds up (t32 > t) a float32 input x with t < x <= t32 goes left in ONNX and right in LightGBM:
rows placed at the thresholds score differently (by up to 0.1 in probability).

The fix here: replace each threshold by the LARGEST float32 not above t (round toward −∞). For
every float32 x, `x <= t` (float64) holds exactly when `x <= floor32(t)` (there is no float32
strictly between floor32(t) and t), so on float32 inputs, which is all the live stage ever
sends (it writes a Float32Array), the ONNX trees take LightGBM's float64 branches exactly and
the scores agree to float32 summation rounding (< 1e-6). `nudge_thresholds` finds each ONNX
node's original float64 threshold from the booster's own dump by (tree, feature, nearest float32).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = 'features'
OUTPUT = 'score'


def floor_float32(t: float) -> np.float32:
    """The largest float32 that is <= t."""
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return np.float32(f)


def _booster_thresholds(booster) -> dict[tuple[int, int, float], set[float]]:
    """(tree, feature, nearest float32 of t) -> the float64 thresholds t with that key."""
    out: dict[tuple[int, int, float], set[float]] = {}
    for tree in booster.dump_model()['tree_info']:
        stack = [tree['tree_structure']]
        while stack:
            node = stack.pop()
            if 'split_feature' not in node:
                continue
            if node.get('decision_type', '<=') != '<=':
                raise ValueError(f'unsupported LightGBM split {node.get("decision_type")!r} (categorical?)')
            t = float(node['threshold'])
            key = (tree['tree_index'], int(node['split_feature']), float(np.float32(t)))
            out.setdefault(key, set()).add(t)
            stack.extend((node['left_child'], node['right_child']))
    return out


def nudge_thresholds(model: onnx.ModelProto, booster) -> int:
    """Round every `<=` threshold of the tree ensemble down to float32; returns how many moved."""
    known = _booster_thresholds(booster)
    moved = 0
    for node in model.graph.node:
        if node.op_type not in ('TreeEnsembleClassifier', 'TreeEnsembleRegressor'):
            continue
        attrs = {a.name: a for a in node.attribute}
        trees = list(attrs['nodes_treeids'].ints)
        feats = list(attrs['nodes_featureids'].ints)
        modes = [m.decode() for m in attrs['nodes_modes'].strings]
        values = list(attrs['nodes_values'].floats)
        for i, mode in enumerate(modes):
            if mode == 'LEAF':
                continue
            if mode != 'BRANCH_LEQ':
                raise ValueError(f'unexpected tree node mode {mode}')
            key = (trees[i], feats[i], float(np.float32(values[i])))
            originals = known.get(key)
            if not originals:
                raise ValueError(f'no LightGBM threshold for tree {trees[i]} feature {feats[i]} ~ {values[i]}')
            floors = {float(floor_float32(t)) for t in originals}
            if len(floors) != 1:
                raise ValueError(f'thresholds {sorted(originals)} of tree {trees[i]} share a float32')
            f = floors.pop()
            if f != float(np.float32(values[i])):
                moved += 1
            values[i] = f
        del attrs['nodes_values'].floats[:]
        attrs['nodes_values'].floats.extend(values)
    return moved


def threshold_rows(booster, base: np.ndarray) -> np.ndarray:
    """Rows at every split: `base` with the split feature at floor32(t), the next float32 up and
    float32(t) (the nearest), the rows on which a nearest-rounded export would go astray."""
    rows = []
    for tree in booster.dump_model()['tree_info']:
        stack = [tree['tree_structure']]
        while stack:
            node = stack.pop()
            if 'split_feature' not in node:
                continue
            f, t = node['split_feature'], node['threshold']
            at = floor_float32(t)
            for v in (at, np.nextafter(at, np.float32(np.inf)), np.float32(t)):
                r = np.array(base, dtype=np.float32).copy()
                r[f] = v
                rows.append(r)
            stack.extend((node['left_child'], node['right_child']))
    return np.array(rows, dtype=np.float32)


def export_lightgbm(booster, n_features: int, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    """LightGBM binary classifier -> ONNX `features` float32[N, n] -> `score` float32[N, 1]."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = onnxmltools.convert_lightgbm(
        booster,
        initial_types=[(INPUT, FloatTensorType([None, n_features]))],
        zipmap=False,
        target_opset=13,
    )
    nudge_thresholds(model, booster)
    return _score_output(model, metadata or {})


def _score_output(model: onnx.ModelProto, metadata: dict[str, str]) -> onnx.ModelProto:
    graph = model.graph
    probs = next(o.name for o in graph.output if 'prob' in o.name)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([1], dtype=np.int64), 'score_start'),
            numpy_helper.from_array(np.array([2], dtype=np.int64), 'score_end'),
            numpy_helper.from_array(np.array([1], dtype=np.int64), 'score_axis'),
        ]
    )
    graph.node.append(
        helper.make_node('Slice', [probs, 'score_start', 'score_end', 'score_axis'], [OUTPUT], name='positive_class')
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [None, 1]))
    for imp in model.opset_import:
        if imp.domain in ('', 'ai.onnx') and imp.version < 13:
            imp.version = 13
    for k, v in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.checker.check_model(model)
    return model
