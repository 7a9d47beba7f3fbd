"""Self-checks of the from-scratch NumPy GRU and LSTM (Karpathy's checkBatchGradient and
checkSequentialMatchesBatch, plus parameters, weights, training, clipping and Adam)."""
from __future__ import annotations

import numpy as np
import pytest

from suite.errors import UserError, WeightShapeError
from suite.models import build_model
from suite.models.numpy.common import Adam, clip_by_global_norm, global_norm
from suite.models.params import formula_params
from suite.spec import ModelSpec

pytestmark = pytest.mark.slow  # model numerics: minutes of float64 gradchecks and framework builds

CELLS = [("gru", "reset_after"), ("gru", "reset_before"), ("lstm", "reset_after")]
CELL_IDS = ["gru-reset_after", "gru-reset_before", "lstm"]
HEADS = [("last", "regression"), ("sequence", "classes"), ("sequence", "multilabel")]
HEAD_IDS = ["regression-last", "classes-sequence", "multilabel-sequence"]
B, T, X, H, O = 3, 5, 4, 6, 3


def make(arch, convention, layers=1, output="sequence", head="regression", dtype="float64", seed=1, **sizes):
    sizes = {"input_size": X, "hidden": H, "output_size": O} | sizes
    spec = ModelSpec(arch, "numpy", layers=layers, output=output, head=head, convention=convention,
                     dtype=dtype, seed=seed, **sizes)
    return build_model(spec)


def batch(model, rng, batch_size=B, steps=T):
    """Random inputs and targets of the right shape and kind for the model's head."""
    s = model.spec
    x = rng.normal(size=(batch_size, steps, s.input_size))
    lead = (batch_size,) if s.output == "last" else (batch_size, steps)
    if s.head == "regression":
        y = rng.normal(size=lead + (s.output_size,))
    elif s.head == "classes":
        y = rng.integers(0, s.output_size, size=lead)
    else:
        y = rng.integers(0, 2, size=lead + (s.output_size,)).astype(float)
    return x, y


# 6th-order central difference: f'(p) ~ sum_k c_k f(p + k h) / h. The plain 2-point form
# (f(p+h) - f(p-h)) / 2h has ~1e-11 rounding noise in float64, which is above 1e-6 relative for
# the few entries whose gradient is ~1e-8; this stencil at h = 1e-2 is accurate to ~1e-14.
STENCIL = {3: 1 / 60, 2: -9 / 60, 1: 45 / 60, -1: -45 / 60, -2: 9 / 60, -3: -1 / 60}
STEP = 1e-2


def numeric_gradient(model, x, y, name, idx):
    p = model.params[name]
    original = p[idx]
    total = 0.0
    for k, c in STENCIL.items():
        p[idx] = original + k * STEP
        total += c * model.loss(x, y)
    p[idx] = original
    return total / STEP


def relative_error(a, n):
    return abs(a - n) / max(abs(a) + abs(n), 1e-12)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output,head", HEADS, ids=HEAD_IDS)
@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_backward_matches_central_differences(arch, convention, output, head, layers):
    model = make(arch, convention, layers, output, head)
    x, y = batch(model, np.random.default_rng(0))
    grads = model.gradients(x, y)
    assert list(grads) == list(model.get_weights())
    worst = {}
    for name, p in model.params.items():
        if convention == "reset_before" and name.endswith(".b_h"):
            assert not grads[name].any()          # not a parameter: gradient reported as zeros
            continue
        worst[name] = max(relative_error(grads[name][idx], numeric_gradient(model, x, y, name, idx))
                          for idx in np.ndindex(p.shape))
    assert max(worst.values()) <= 1e-6, worst


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-6), ("float32", 1e-5)])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_step_by_step_matches_whole_sequence(arch, convention, layers, dtype, tol):
    model = make(arch, convention, layers, output="sequence", dtype=dtype, hidden=16)
    x = np.random.default_rng(2).normal(size=(4, 12, X)).astype(dtype)
    whole = model.forward(x)                                   # (B, T, O)
    state = model.init_state(4)
    steps = []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        steps.append(out)
    streamed = np.stack(steps, axis=1)
    assert streamed.dtype == whole.dtype == np.dtype(dtype)
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=tol)
    assert np.abs(whole).max() > 0.05                          # a meaningful comparison, not zeros


def test_step_leaves_the_given_state_alone():
    model = make("lstm", "reset_after", layers=2)
    state = model.init_state(2)
    model.step(np.ones((2, X)), state)
    assert all(not h.any() and not c.any() for h, c in state)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("input_size,hidden,output_size", [(1, 1, 1), (4, 6, 3), (32, 128, 10)])
@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_num_params_matches_formula(arch, convention, input_size, hidden, output_size, layers):
    model = make(arch, convention, layers, input_size=input_size, hidden=hidden, output_size=output_size)
    assert model.num_params() == formula_params(model.spec)


def test_reset_before_has_one_bias_per_gate():
    after, before = make("gru", "reset_after", 2), make("gru", "reset_before", 2)
    assert after.num_params() - before.num_params() == 2 * 3 * H
    assert not any(before.get_weights()[f"l{k}.b_h"].any() for k in range(2))


@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_wrong_shape_raises_weight_shape_error_naming_tensor_and_shapes(arch, convention):
    model = make(arch, convention, layers=2)
    weights = model.get_weights()
    expected = weights["l1.W_h"].shape
    weights["l1.W_h"] = np.zeros((H + 1, expected[1]))
    with pytest.raises(WeightShapeError) as info:
        model.set_weights(weights)
    message = str(info.value)
    assert "l1.W_h" in message and str(expected) in message and str((H + 1, expected[1])) in message
    np.testing.assert_array_equal(model.get_weights()["l0.W_i"], weights["l0.W_i"])  # nothing written


def test_missing_or_unknown_tensor_is_a_user_error():
    model = make("gru", "reset_after")
    weights = model.get_weights()
    del weights["head.b"]
    with pytest.raises(UserError, match="head.b"):
        model.set_weights(weights)


@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_get_set_round_trip(arch, convention):
    source, target = make(arch, convention, 2, seed=1), make(arch, convention, 2, seed=2)
    x = np.random.default_rng(3).normal(size=(B, T, X))
    assert not np.allclose(source.forward(x), target.forward(x))
    target.set_weights(source.get_weights())
    for name, w in source.get_weights().items():
        np.testing.assert_array_equal(target.get_weights()[name], w)
    np.testing.assert_array_equal(target.forward(x), source.forward(x))
    target.get_weights()["l0.W_i"][...] = 0                   # copies, not views
    np.testing.assert_array_equal(target.forward(x), source.forward(x))


def test_reset_before_folds_b_h_into_b_i():
    model, folded = make("gru", "reset_before", 2), make("gru", "reset_before", 2, seed=5)
    x = np.random.default_rng(4).normal(size=(B, T, X))
    before = model.forward(x)
    weights = model.get_weights()
    b_h = np.random.default_rng(6).normal(size=3 * H)
    weights["l1.b_i"] -= b_h                                  # same function, bias split over b_i + b_h
    weights["l1.b_h"] = b_h
    folded.set_weights(weights)
    np.testing.assert_allclose(folded.forward(x), before, rtol=0, atol=1e-12)
    assert not folded.get_weights()["l1.b_h"].any()
    np.testing.assert_allclose(folded.get_weights()["l1.b_i"], model.get_weights()["l1.b_i"], atol=1e-12)


def sum_task(rng, n=32, steps=8):
    x = rng.uniform(-1, 1, size=(n, steps, 1))
    return x, x.sum(axis=1)                                    # y (n, 1): the sum of the inputs


def sign_task(rng, n=32, steps=8):
    x = rng.normal(size=(n, steps, 1))
    return x, (x.mean(axis=(1, 2)) > 0).astype(np.int64)      # y (n,): class 1 when the mean is positive


@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_adam_training_learns_sum_of_inputs(arch, convention):
    model = make(arch, convention, output="last", head="regression", dtype="float32",
                 input_size=1, hidden=16, output_size=1)
    model.configure_training(lr=1e-2, clip_norm=1.0)
    rng = np.random.default_rng(0)
    x_val, y_val = sum_task(np.random.default_rng(99), n=256)
    start = model.loss(x_val, y_val)
    for _ in range(300):
        loss = model.train_step(*sum_task(rng))
        assert isinstance(loss, float) and np.isfinite(loss)
    end = model.loss(x_val, y_val)
    assert end < start / 100, (start, end)


@pytest.mark.parametrize("arch", ["gru", "lstm"])
def test_adam_training_learns_sign_of_mean(arch):
    model = make(arch, "reset_after", output="last", head="classes", input_size=1, hidden=16, output_size=2)
    model.configure_training(lr=1e-2, clip_norm=None)
    rng = np.random.default_rng(0)
    x_val, y_val = sign_task(np.random.default_rng(99), n=256)
    start = model.loss(x_val, y_val)
    for _ in range(300):
        model.train_step(*sign_task(rng))
    assert model.loss(x_val, y_val) < start / 5
    assert (model.forward(x_val).argmax(axis=1) == y_val).mean() > 0.9


def test_clipping_scales_to_clip_norm_when_larger():
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(5, 7)), "b": rng.normal(size=3)}
    norm = clip_by_global_norm(grads, clip_norm=0.5)
    assert norm > 0.5
    assert global_norm(grads) == pytest.approx(0.5, rel=1e-12)
    small = {"a": np.full(4, 0.1)}
    assert clip_by_global_norm(small, clip_norm=1.0) == pytest.approx(0.2)
    np.testing.assert_array_equal(small["a"], np.full(4, 0.1))      # untouched when below


def test_adam_matches_torch_update_rule():
    lr, g1, g2 = 0.1, np.array([0.5, -2.0, 1e-3]), np.array([-1.0, 1.0, 0.0])
    params = {"p": np.zeros(3)}
    adam = Adam(params, lr)
    adam.step(params, {"p": g1.copy()})
    np.testing.assert_allclose(params["p"], -lr * g1 / (np.abs(g1) + 1e-8), rtol=1e-12)
    after_one = params["p"].copy()
    adam.step(params, {"p": g2.copy()})
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    expected = after_one - lr / (1 - 0.9**2) * m / (np.sqrt(v) / np.sqrt(1 - 0.999**2) + 1e-8)
    np.testing.assert_allclose(params["p"], expected, rtol=1e-12)


@pytest.mark.parametrize("arch,convention", CELLS, ids=CELL_IDS)
def test_float32_stays_float32(arch, convention):
    model = make(arch, convention, 2, output="sequence", head="multilabel", dtype="float32")
    x, y = batch(model, np.random.default_rng(0))
    assert model.forward(x).dtype == np.float32
    assert model.encode(x).shape == (B, T, H) and model.encode(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.gradients(x, y).values())
    model.configure_training(1e-3, 1.0)
    model.train_step(x, y)
    assert all(w.dtype == np.float32 for w in model.get_weights().values())
    out, state = model.step(x[:, 0], model.init_state(B))
    assert out.dtype == np.float32 and out.shape == (B, O)


def test_bad_inputs_raise_user_errors():
    model = make("gru", "reset_after", output="last", head="classes")
    x = np.zeros((B, T, X))
    with pytest.raises(UserError, match="inputs x"):
        model.forward(np.zeros((B, T, X + 1)))
    with pytest.raises(UserError, match="targets y"):
        model.loss(x, np.zeros((B, T), dtype=int))
    with pytest.raises(UserError, match="class ids"):
        model.loss(x, np.full(B, O))
    with pytest.raises(UserError, match="configure_training"):
        model.train_step(x, np.zeros(B, dtype=int))
    with pytest.raises(UserError, match="x_t"):
        model.step(np.zeros((B, X + 1)), model.init_state(B))
    with pytest.raises(UserError, match="builds arch"):
        from suite.models.numpy.lstm import LSTMNumpy
        LSTMNumpy(model.spec)


def test_execution_path_reports_numpy_on_cpu():
    path = make("lstm", "reset_after").execution_path()
    assert path["mode"] == "numpy" and path["device"] == "cpu"
    assert path["onednn"] is False and path["cudnn_eligible"] is False and path["blas"]
