"""fastdl.metrics: hand-computed cases, streaming, thresholds, top-k, errors,
thread determinism, and agreement with scikit-learn when it is installed."""
import math

import numpy as np
import pytest

import fastdl
from fastdl import metrics as M
from fastdl._C import metrics as _C

# The scikit-learn documentation's multiclass example.
#   cm = [[2, 0, 0], [1, 0, 1], [0, 2, 0]]; tp = [2, 0, 0]
#   predicted totals [3, 2, 1], true totals [2, 2, 2]
MC_TRUE = np.array([0, 1, 2, 0, 1, 2])
MC_PRED = np.array([0, 2, 1, 0, 0, 1])

# Unequal supports: cm = [[2, 1, 0], [0, 1, 1], [0, 0, 1]]; tp = [2, 1, 1]
#   predicted totals [2, 2, 2], true totals [3, 2, 1]
W_TRUE = np.array([0, 0, 0, 1, 1, 2])
W_PRED = np.array([0, 0, 1, 1, 2, 2])

# Binary: tp = 2 (idx 0, 3), fp = 1 (idx 1), fn = 2 (idx 2, 6), tn = 2
B_TRUE = np.array([1, 0, 1, 1, 0, 0, 1])
B_PRED = np.array([1, 1, 0, 1, 0, 0, 0])


def _stream(metric, preds, target, splits):
    for p, t in zip(np.array_split(preds, splits), np.array_split(target, splits)):
        metric.update(p, t)
    return metric.compute()


# ---- confusion matrix --------------------------------------------------------

def test_confusion_matrix_hand():
    want = np.array([[2, 0, 0], [1, 0, 1], [0, 2, 0]])
    np.testing.assert_array_equal(M.confusion_matrix(MC_TRUE, MC_PRED), want)
    m = M.ConfusionMatrix(3)
    m.update(MC_PRED, MC_TRUE)
    np.testing.assert_array_equal(m.compute(), want)
    assert m.compute().dtype == np.int64


def test_confusion_matrix_only_present_labels_and_normalize():
    # labels {0, 2} only: scikit-learn's matrix is 2 x 2 over the present labels
    np.testing.assert_array_equal(M.confusion_matrix([0, 2, 2], [0, 2, 0]), [[1, 0], [1, 1]])
    np.testing.assert_array_equal(M.confusion_matrix([0, 2, 2], [0, 2, 0], labels=[2, 0]),
                                  [[1, 1], [0, 1]])
    np.testing.assert_allclose(M.confusion_matrix(W_TRUE, W_PRED, normalize="true"),
                               [[2 / 3, 1 / 3, 0], [0, 0.5, 0.5], [0, 0, 1]])
    np.testing.assert_allclose(M.confusion_matrix(W_TRUE, W_PRED, normalize="all"),
                               np.array([[2, 1, 0], [0, 1, 1], [0, 0, 1]]) / 6)


def test_confusion_matrix_from_scores_argmax_first_max():
    scores = np.array([[0.1, 0.7, 0.2],
                       [0.5, 0.5, 0.0],    # tie: first maximum (class 0) wins
                       [0.0, 0.1, 0.9],
                       [0.3, 0.3, 0.3]], dtype=np.float32)
    y = np.array([1, 1, 2, 2])
    m = M.ConfusionMatrix(3)
    m.update(scores, y)
    np.testing.assert_array_equal(m.compute(), [[0, 0, 0], [1, 1, 0], [1, 0, 1]])


def test_argmax_matches_numpy_with_ties_and_nan():
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        x = rng.integers(0, 3, (2000, 7)).astype(dtype)   # many ties
        x[rng.random(x.shape) < 0.05] = np.nan              # NaN is the maximum, as numpy
        y = rng.integers(0, 7, 2000)
        cm = np.zeros((7, 7), dtype=np.int64)
        _C.confusion_update(cm, x, y)
        want = np.zeros((7, 7), dtype=np.int64)
        np.add.at(want, (y, np.argmax(x, axis=1)), 1)
        np.testing.assert_array_equal(cm, want)


def test_confusion_matrix_grows_without_num_classes():
    m = M.ConfusionMatrix()
    m.update(np.array([0, 1]), np.array([0, 1]))
    m.update(np.array([3]), np.array([2]))
    want = np.zeros((4, 4), dtype=np.int64)
    want[0, 0] = want[1, 1] = want[2, 3] = 1
    np.testing.assert_array_equal(m.compute(), want)


# ---- accuracy ----------------------------------------------------------------

def test_accuracy_multiclass_hand():
    assert M.accuracy_score(MC_TRUE, MC_PRED) == pytest.approx(2 / 6)
    assert M.accuracy_score(MC_TRUE, MC_PRED, normalize=False) == 2
    assert M.accuracy(MC_PRED, MC_TRUE) == pytest.approx(2 / 6)
    scores = np.eye(3)[MC_PRED] * 0.8 + 0.1   # argmax is MC_PRED
    assert M.accuracy(scores, MC_TRUE) == pytest.approx(2 / 6)
    # one-hot targets are accepted with scores
    assert M.accuracy(scores, np.eye(3)[MC_TRUE]) == pytest.approx(2 / 6)


def test_accuracy_binary_probabilities_threshold_is_strict():
    probs = np.array([0.9, 0.6, 0.4, 0.5, 0.1, 0.2, 0.3])
    # p > 0.5 -> [1, 1, 0, 0, 0, 0, 0]; matches B_TRUE at idx 0, 4, 5
    assert M.accuracy(probs, B_TRUE, task="binary") == pytest.approx(3 / 7)
    # threshold 0.35 -> [1, 1, 1, 1, 0, 0, 0]; matches at 0, 2, 3, 4, 5
    assert M.accuracy(probs, B_TRUE, task="binary", threshold=0.35) == pytest.approx(5 / 7)
    # [N, 1] model outputs and float32 work the same
    assert M.accuracy(probs.astype(np.float32)[:, None], B_TRUE, task="binary") == \
        pytest.approx(3 / 7)


def test_accuracy_default_task_reads_one_unit_output_as_binary():
    probs = np.array([[0.9], [0.6], [0.4], [0.5], [0.1], [0.2], [0.3]], dtype=np.float32)
    assert M.accuracy(probs, B_TRUE) == pytest.approx(3 / 7)
    with pytest.raises(ValueError, match="task='binary'"):
        M.accuracy(probs[:, 0], B_TRUE)


def test_accuracy_binary_logits():
    logits = np.array([2.0, 0.5, -0.5, -1.0, -3.0, 1.5, -0.1])
    # sigmoid > 0.5 <=> logit > 0 -> [1, 1, 0, 0, 0, 1, 0]; matches at 0, 4
    assert M.accuracy(logits, B_TRUE, task="binary", from_logits=True) == pytest.approx(2 / 7)
    # sigmoid > 0.8 <=> logit > log(4) = 1.386 -> [1, 0, 0, 0, 0, 1, 0]; matches at 0, 1, 4
    assert M.accuracy(logits, B_TRUE, task="binary", threshold=0.8, from_logits=True) == \
        pytest.approx(3 / 7)


def test_top_k_accuracy_hand():
    scores = np.array([[0.1, 0.5, 0.3, 0.05],    # label 2 ranks 2nd
                       [0.6, 0.2, 0.1, 0.1],     # label 0 ranks 1st
                       [0.2, 0.3, 0.4, 0.1],     # label 3 ranks 4th
                       [0.25, 0.35, 0.3, 0.1]])  # label 0 ranks 3rd
    y = np.array([2, 0, 3, 0])
    assert M.accuracy(scores, y, top_k=1) == pytest.approx(1 / 4)
    assert M.accuracy(scores, y, top_k=2) == pytest.approx(2 / 4)
    assert M.accuracy(scores, y, top_k=3) == pytest.approx(3 / 4)
    assert M.accuracy(scores, y, top_k=4) == pytest.approx(1.0)
    assert M.Accuracy(top_k=3).name == "top_k_accuracy"


def test_top_k_ties_count_as_hits():
    scores = np.array([[0.5, 0.4, 0.4, 0.1]], dtype=np.float32)
    # label 2 ties class 1 at the 2nd place: one class scores strictly higher, 1 < 2
    assert _C.topk_correct(scores, np.array([2]), 2) == 1
    assert _C.topk_correct(scores, np.array([1]), 2) == 1
    # label 3: three classes score higher
    assert _C.topk_correct(scores, np.array([3]), 2) == 0
    assert _C.topk_correct(scores, np.array([3]), 4) == 1


def test_top_k_matches_sort_reference_on_distinct_scores():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        s = rng.standard_normal((1000, 17)).astype(dtype)
        y = rng.integers(0, 17, 1000)
        for k in (1, 2, 5, 17):
            top = np.argsort(-s, axis=1, kind="stable")[:, :k]
            want = int((top == y[:, None]).any(axis=1).sum())
            assert _C.topk_correct(s, y, k) == want


# ---- precision / recall / F1 ----------------------------------------------------

def test_prf_binary_hand():
    assert M.precision_score(B_TRUE, B_PRED) == pytest.approx(2 / 3)
    assert M.recall_score(B_TRUE, B_PRED) == pytest.approx(2 / 4)
    assert M.f1_score(B_TRUE, B_PRED) == pytest.approx(4 / 7)
    # class 0 as positive: tp = 2, fp = 2, fn = 1
    assert M.precision_score(B_TRUE, B_PRED, pos_label=0) == pytest.approx(2 / 4)
    assert M.recall_score(B_TRUE, B_PRED, pos_label=0) == pytest.approx(2 / 3)
    for cls, want in ((M.Precision, 2 / 3), (M.Recall, 2 / 4), (M.F1Score, 4 / 7)):
        m = cls()
        m.update(B_PRED, B_TRUE)
        assert m.compute() == pytest.approx(want)


def test_prf_binary_from_probabilities():
    probs = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.3, 0.4])  # > 0.5 gives B_PRED
    m = M.F1Score()
    m.update(probs, B_TRUE)
    assert m.compute() == pytest.approx(4 / 7)


def test_prf_multiclass_equal_support_hand():
    # per class: precision [2/3, 0, 0], recall [1, 0, 0], f1 [4/5, 0, 0]
    for avg in ("macro", "weighted"):
        assert M.precision_score(MC_TRUE, MC_PRED, average=avg) == pytest.approx(2 / 9)
        assert M.recall_score(MC_TRUE, MC_PRED, average=avg) == pytest.approx(1 / 3)
        assert M.f1_score(MC_TRUE, MC_PRED, average=avg) == pytest.approx(0.8 / 3)
    for fn in (M.precision_score, M.recall_score, M.f1_score):
        assert fn(MC_TRUE, MC_PRED, average="micro") == pytest.approx(2 / 6)
    np.testing.assert_allclose(M.f1_score(MC_TRUE, MC_PRED, average=None), [0.8, 0, 0])


def test_prf_multiclass_weighted_hand():
    # precision [1, 1/2, 1/2], recall [2/3, 1/2, 1], f1 [4/5, 1/2, 2/3], support [3, 2, 1]
    p, r, f = (1, .5, .5), (2 / 3, .5, 1), (.8, .5, 2 / 3)
    w = (3, 2, 1)
    for fn, per in ((M.precision_score, p), (M.recall_score, r), (M.f1_score, f)):
        assert fn(W_TRUE, W_PRED, average="macro") == pytest.approx(sum(per) / 3)
        assert fn(W_TRUE, W_PRED, average="weighted") == \
            pytest.approx(sum(a * b for a, b in zip(per, w)) / 6)
        assert fn(W_TRUE, W_PRED, average="micro") == pytest.approx(4 / 6)
    m = M.Recall(average="weighted", num_classes=3)
    assert _stream(m, W_PRED, W_TRUE, 3) == pytest.approx((3 * 2 / 3 + 2 * .5 + 1) / 6)


def test_prf_binary_rejects_multiclass():
    with pytest.raises(ValueError, match="average='binary'"):
        M.f1_score(MC_TRUE, MC_PRED)


def test_zero_division():
    y = np.array([0, 0, 0])
    p = np.array([0, 0, 0])
    # class 1 never true nor predicted: every ratio is 0/0
    for z in (0, 1):
        assert M.precision_score(y, p, zero_division=z) == z
        assert M.recall_score(y, p, zero_division=z) == z
        assert M.f1_score(y, p, zero_division=z) == z
        m = M.Precision(zero_division=z)
        m.update(p, y)
        assert m.compute() == z
    assert math.isnan(M.f1_score(y, p, zero_division=np.nan))
    assert M.precision_score(y, p, zero_division="warn") == 0
    # class 2 predicted but never true: recall of class 2 is 0/0
    yt, yp = np.array([0, 0, 1]), np.array([0, 2, 1])   # recall [1/2, 1, ?]
    assert M.recall_score(yt, yp, average="macro", zero_division=0) == pytest.approx(1.5 / 3)
    assert M.recall_score(yt, yp, average="macro", zero_division=1) == pytest.approx(2.5 / 3)
    assert M.recall_score(yt, yp, average="macro", zero_division=np.nan) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="zero_division"):
        M.Precision(zero_division=2)


def test_macro_averages_over_present_classes_only():
    # num_classes=5 but only classes 0..2 occur: the average is over 3 classes
    m = M.Precision(average="macro", num_classes=5)
    m.update(MC_PRED, MC_TRUE)
    assert m.compute() == pytest.approx(2 / 9)
    m = M.F1Score(average="macro")
    m.update(np.eye(5)[MC_PRED], MC_TRUE)   # scores over 5 classes
    assert m.compute() == pytest.approx(0.8 / 3)


# ---- regression ----------------------------------------------------------------

RT = np.array([3.0, -0.5, 2.0, 7.0])
RP = np.array([2.5, 0.0, 2.0, 8.0])   # errors [-0.5, 0.5, 0, 1]


def test_regression_hand():
    assert M.mean_absolute_error(RT, RP) == pytest.approx(2.0 / 4)
    assert M.mean_squared_error(RT, RP) == pytest.approx(1.5 / 4)
    assert M.root_mean_squared_error(RT, RP) == pytest.approx(math.sqrt(1.5 / 4))
    mean = 11.5 / 4
    ss_tot = sum((v - mean) ** 2 for v in RT)
    assert M.r2_score(RT, RP) == pytest.approx(1 - 1.5 / ss_tot)
    for cls, fn in ((M.MeanAbsoluteError, M.mean_absolute_error),
                    (M.MeanSquaredError, M.mean_squared_error),
                    (M.RootMeanSquaredError, M.root_mean_squared_error),
                    (M.R2Score, M.r2_score)):
        m = cls()
        m.update(RP.astype(np.float32)[:, None], RT.astype(np.float32))
        assert m.compute() == pytest.approx(fn(RT, RP), rel=1e-6)


def test_regression_multioutput_hand():
    yt = np.array([[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]])
    yp = np.array([[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]])
    # column 0 errors [-0.5, 0, 1]; column 1 errors [1, 1, 1]
    assert M.mean_absolute_error(yt, yp) == pytest.approx((1.5 + 3) / 6)
    assert M.mean_squared_error(yt, yp) == pytest.approx((1.25 + 3) / 6)
    np.testing.assert_allclose(M.mean_squared_error(yt, yp, multioutput="raw_values"),
                               [1.25 / 3, 1.0])
    assert M.root_mean_squared_error(yt, yp) == pytest.approx((math.sqrt(1.25 / 3) + 1) / 2)
    m0, m1 = 6.5 / 3, -4.0 / 3
    tot0 = (0.5 - m0) ** 2 + (-1 - m0) ** 2 + (7 - m0) ** 2
    tot1 = 2 * (1 - m1) ** 2 + (-6 - m1) ** 2
    assert M.r2_score(yt, yp) == pytest.approx(((1 - 1.25 / tot0) + (1 - 3 / tot1)) / 2)


def test_r2_constant_target_and_tiny_inputs():
    assert M.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert M.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 3.0]) == 0.0
    assert math.isnan(M.r2_score([1.0], [2.0]))
    assert math.isnan(M.R2Score().compute())


def test_r2_stable_with_large_mean():
    # sum y^2 - (sum y)^2 / n would lose all digits here; centred moments keep them
    rng = np.random.default_rng(1)
    y = 1e8 + rng.standard_normal(10_000)
    p = y + 0.1 * rng.standard_normal(10_000)
    want = 1 - np.sum((p - y) ** 2) / np.sum((y - y.mean()) ** 2)
    m = M.R2Score()
    assert _stream(m, p, y, 7) == pytest.approx(want, rel=1e-9)


# ---- streaming -------------------------------------------------------------------

@pytest.mark.parametrize("splits", [2, 5, 13])
def test_streaming_equals_one_shot(splits):
    rng = np.random.default_rng(splits)
    N, C = 997, 6
    scores = rng.standard_normal((N, C)).astype(np.float32)
    y = rng.integers(0, C, N)
    cases = [M.Accuracy(), M.Accuracy(top_k=3), M.ConfusionMatrix(C),
             M.Precision(average="macro"), M.Recall(average="micro"),
             M.F1Score(average="weighted")]
    for mk in cases:
        one = type(mk)(**_ctor_args(mk))
        one.update(scores, y)
        np.testing.assert_array_equal(_stream(mk, scores, y, splits), one.compute())
    yr = rng.standard_normal((N, 3)) * 5 + 2
    pr = yr + rng.standard_normal((N, 3))
    for cls in (M.MeanAbsoluteError, M.MeanSquaredError, M.RootMeanSquaredError, M.R2Score):
        one = cls()
        one.update(pr, yr)
        assert _stream(cls(), pr, yr, splits) == pytest.approx(one.compute(), rel=1e-12)


def _ctor_args(m):
    if isinstance(m, M.Accuracy):
        return {"top_k": m.top_k}
    if isinstance(m, M.ConfusionMatrix):
        return {"num_classes": m.num_classes}
    return {"average": m.average}


def test_reset_clears_state():
    m = M.Accuracy()
    m.update(np.array([1, 1]), np.array([0, 0]))
    m.reset()
    m.update(np.array([1, 1]), np.array([1, 1]))
    assert m.compute() == 1.0
    r = M.MeanAbsoluteError()
    r.update(np.array([5.0]), np.array([0.0]))
    r.reset()
    r.update(np.array([1.0]), np.array([0.0]))
    assert r.compute() == 1.0


def test_accepts_fastdl_tensors():
    scores = fastdl.tensor(np.eye(3, dtype=np.float32)[MC_PRED])
    assert M.accuracy(scores, MC_TRUE) == pytest.approx(2 / 6)
    m = M.MeanSquaredError()
    m.update(fastdl.tensor(RP.astype(np.float32)), fastdl.tensor(RT.astype(np.float32)))
    assert m.compute() == pytest.approx(1.5 / 4)


# ---- errors --------------------------------------------------------------------

def test_label_out_of_range_names_metric_and_value():
    scores = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"Accuracy.*target\[1\] = 4 is out of range \[0, 4\)"):
        M.accuracy(scores, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="out of range"):
        M.accuracy(scores, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match="out of range"):
        M.accuracy(scores, np.array([0, 9, 1]), top_k=2)
    with pytest.raises(ValueError, match="out of range"):
        M.ConfusionMatrix(3).update(np.array([0, 3]), np.array([0, 1]))
    with pytest.raises(ValueError, match="0 or 1"):
        M.accuracy(np.array([0.2, 0.9]), np.array([0, 2]), task="binary")
    with pytest.raises(ValueError, match="num_classes=3"):
        M.ConfusionMatrix(3).update(np.zeros((2, 5)), np.array([0, 1]))


def test_shape_and_dtype_errors():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match="differ"):
        M.Precision().update(np.array([0, 1, 1]), np.array([0, 1]))
    msg = r"mean_squared_error: y_pred of shape \(4,\) and y_true of shape \(3,\)"
    with pytest.raises(ValueError, match=msg):
        M.mean_squared_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="integer class labels"):
        M.accuracy(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="integer class labels"):
        M.accuracy(np.zeros((2, 3)), np.array(["a", "b"]))
    with pytest.raises(ValueError, match="top_k=2 needs scores"):
        M.accuracy(np.zeros(3), np.zeros(3, dtype=np.int64), top_k=2)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.topk_correct(np.zeros((2, 3), dtype=np.int32), np.array([0, 1]), 1)


# ---- names -----------------------------------------------------------------------

def test_get_metric():
    kinds = {"accuracy": M.Accuracy, "acc": M.Accuracy, "top_k_accuracy": M.Accuracy,
             "precision": M.Precision, "recall": M.Recall, "f1": M.F1Score,
             "mae": M.MeanAbsoluteError, "mse": M.MeanSquaredError,
             "rmse": M.RootMeanSquaredError, "r2": M.R2Score}
    for name, cls in kinds.items():
        m = M.get_metric(name)
        assert type(m) is cls and m.name == name
    assert M.get_metric("top_k_accuracy").top_k == 5
    assert M.get_metric("f1").average == "macro"
    assert M.get_metric("acc") is not M.get_metric("acc")
    obj = M.F1Score(average="binary")
    assert M.get_metric(obj) is obj
    assert obj.name == "f1_score"
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_metric("auc")
    with pytest.raises(TypeError):
        M.get_metric(3)


# ---- threads -------------------------------------------------------------------------

def test_confusion_and_regression_bitwise_for_1_and_2_threads():
    rng = np.random.default_rng(7)
    N, C = 300_000, 10
    scores = rng.standard_normal((N, C)).astype(np.float32)
    y = rng.integers(0, C, N)
    yr = rng.standard_normal(N) * 3 + 1e3
    pr = yr + rng.standard_normal(N)
    old = fastdl.get_num_threads()
    out = []
    try:
        for t in (1, 2):
            fastdl.set_num_threads(t)
            cm = np.zeros((C, C), dtype=np.int64)
            _C.confusion_update(cm, scores, y)
            cml = np.zeros((C, C), dtype=np.int64)
            _C.confusion_update(cml, np.argmax(scores, axis=1), y)
            st = np.zeros((1, _C.REG_STATE))
            _C.regression_update(st, pr, yr)
            out.append((cm, cml, st, _C.topk_correct(scores, y, 3)))
    finally:
        fastdl.set_num_threads(old)
    want = np.zeros((C, C), dtype=np.int64)
    np.add.at(want, (y, np.argmax(scores, axis=1)), 1)
    for (cm, cml, st, hits) in out:
        np.testing.assert_array_equal(cm, want)
        np.testing.assert_array_equal(cml, want)
    assert out[0][2].tobytes() == out[1][2].tobytes()
    assert out[0][3] == out[1][3]


# ---- scikit-learn --------------------------------------------------------------------

def _random_labels(rng, n, c, missing=()):
    y = rng.integers(0, c, n)
    for m in missing:
        y[y == m] = 0
    return y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_matches_sklearn(seed):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    yt = _random_labels(rng, 500, 7, missing=(5,))
    yp = _random_labels(rng, 500, 7, missing=(3, 5))
    assert M.accuracy_score(yt, yp) == pytest.approx(skm.accuracy_score(yt, yp))
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp), skm.confusion_matrix(yt, yp))
    for avg in ("macro", "micro", "weighted", None):
        for z in (0, 1, np.nan):
            for ours, theirs in ((M.precision_score, skm.precision_score),
                                 (M.recall_score, skm.recall_score),
                                 (M.f1_score, skm.f1_score)):
                np.testing.assert_allclose(ours(yt, yp, average=avg, zero_division=z),
                                           theirs(yt, yp, average=avg, zero_division=z),
                                           rtol=1e-12, equal_nan=True)
    bt, bp = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    for pos in (0, 1):
        for ours, theirs in ((M.precision_score, skm.precision_score),
                             (M.recall_score, skm.recall_score), (M.f1_score, skm.f1_score)):
            assert ours(bt, bp, pos_label=pos) == pytest.approx(theirs(bt, bp, pos_label=pos))


def test_streaming_objects_match_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((800, 5))
    yt = rng.integers(0, 5, 800)
    yp = scores.argmax(axis=1)
    for cls, fn in ((M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                    (M.F1Score, skm.f1_score)):
        for avg in ("macro", "micro", "weighted"):
            assert _stream(cls(average=avg), scores, yt, 4) == \
                pytest.approx(fn(yt, yp, average=avg))
    probs = rng.random(800)
    bt = rng.integers(0, 2, 800)
    assert _stream(M.F1Score(), probs, bt, 3) == \
        pytest.approx(skm.f1_score(bt, (probs > 0.5).astype(int)))


@pytest.mark.parametrize("shape", [(400,), (400, 3)])
def test_regression_matches_sklearn(shape):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    yt = rng.standard_normal(shape) * 4 + 3
    yp = yt + rng.standard_normal(shape)
    for name in ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
                 "r2_score"):
        for mo in ("uniform_average", "raw_values"):
            np.testing.assert_allclose(getattr(M, name)(yt, yp, multioutput=mo),
                                       getattr(skm, name)(yt, yp, multioutput=mo), rtol=1e-10)
