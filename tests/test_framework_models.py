"""PyTorch and Keras models: layout converters, weight copies across frameworks, parameter counts,
streaming == whole sequence, weight-shape errors, execution paths and a training smoke test."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.models import layouts
from suite.errors import UserError, WeightShapeError
from suite.models import build_model
from suite.models.keras.common import tf
from suite.models.params import formula_params
from suite.spec import ModelSpec

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

# (arch, framework, convention): every torch / Keras model
MODELS = [("gru", "torch", "reset_after"), ("lstm", "torch", "reset_after"), ("transformer", "torch", "reset_after"),
          ("gru", "keras", "reset_after"), ("gru", "keras", "reset_before"), ("lstm", "keras", "reset_after"),
          ("transformer", "keras", "reset_after")]
MODEL_IDS = [f"{a}-{f}-{c}" if a == "gru" else f"{a}-{f}" for a, f, c in MODELS]


def spec(arch, framework, convention="reset_after", **kw):
    base = dict(input_size=4, hidden=8, output_size=3, layers=2, output="sequence", head="regression", seed=0)
    return ModelSpec(arch, framework, convention=convention, **(base | kw))


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- converters -----------------------------------------------------------------------------------
def test_gru_keras_gate_order_is_z_r_h():
    """Keras columns z|r|h: the first Keras block is canonical z (the second canonical block)."""
    rng, X, H = np.random.default_rng(0), 3, 4
    W_i, W_h, b_i, b_h = rand(rng, X, 3 * H), rand(rng, H, 3 * H), rand(rng, 3 * H), rand(rng, 3 * H)
    k = layouts.gru_canonical_to_keras(W_i, W_h, b_i, b_h, reset_after=True)
    np.testing.assert_array_equal(k["kernel"][:, :H], W_i[:, H:2 * H])            # Keras z = canonical z
    np.testing.assert_array_equal(k["kernel"][:, H:2 * H], W_i[:, :H])            # Keras r = canonical r
    np.testing.assert_array_equal(k["recurrent_kernel"][:, 2 * H:], W_h[:, 2 * H:])  # h = n
    np.testing.assert_array_equal(k["bias"][1, :H], b_h[H:2 * H])


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_converters_round_trip(reset_after):
    rng, X, H = np.random.default_rng(1), 3, 4
    w = {"W_i": rand(rng, X, 3 * H), "W_h": rand(rng, H, 3 * H), "b_i": rand(rng, 3 * H), "b_h": rand(rng, 3 * H)}
    t = layouts.gru_canonical_to_torch(**w)
    assert t["weight_ih"].shape == (3 * H, X)
    for name, value in layouts.gru_torch_to_canonical(**t).items():
        np.testing.assert_array_equal(value, w[name])
    k = layouts.gru_canonical_to_keras(**w, reset_after=reset_after)
    assert k["bias"].shape == ((2, 3 * H) if reset_after else (3 * H,))
    back = layouts.gru_keras_to_canonical(**k, reset_after=reset_after)
    np.testing.assert_array_equal(back["W_i"], w["W_i"])
    np.testing.assert_array_equal(back["W_h"], w["W_h"])
    if reset_after:
        np.testing.assert_array_equal(back["b_h"], w["b_h"])
    else:   # folded: b_i + b_h lands in b_i, b_h reads back as zero (not a parameter)
        np.testing.assert_allclose(back["b_i"], w["b_i"] + w["b_h"])
        assert not back["b_h"].any()
    # Keras bias of the wrong rank for the convention is refused
    with pytest.raises(WeightShapeError):
        layouts.gru_keras_to_canonical(**k, reset_after=not reset_after)


def test_lstm_converters_round_trip_and_folded_bias_gradients():
    rng, X, H = np.random.default_rng(2), 3, 4
    w = {"W_i": rand(rng, X, 4 * H), "W_h": rand(rng, H, 4 * H), "b_i": rand(rng, 4 * H), "b_h": rand(rng, 4 * H)}
    for name, value in layouts.lstm_torch_to_canonical(**layouts.lstm_canonical_to_torch(**w)).items():
        np.testing.assert_array_equal(value, w[name])
    k = layouts.lstm_canonical_to_keras(**w)
    np.testing.assert_allclose(k["bias"], w["b_i"] + w["b_h"])
    weights = layouts.lstm_keras_to_canonical(**k)
    np.testing.assert_array_equal(weights["W_i"], w["W_i"])
    assert not weights["b_h"].any()                       # weights: b_i = bias, b_h = 0
    grads = layouts.lstm_keras_to_canonical(**k, grad=True)
    np.testing.assert_array_equal(grads["b_h"], k["bias"])   # gradients: d/db_i = d/db_h = d/dbias
    np.testing.assert_array_equal(grads["b_i"], k["bias"])


def test_transformer_converters_round_trip():
    rng, D, F, heads = np.random.default_rng(3), 8, 12, 2
    shapes = {"ln1.g": (D,), "ln1.b": (D,), "ln2.g": (D,), "ln2.b": (D,), "ff.W_1": (D, F), "ff.b_1": (F,),
              "ff.W_2": (F, D), "ff.b_2": (D,)}
    shapes |= {f"attn.W_{n}": (D, D) for n in "qkvo"} | {f"attn.b_{n}": (D,) for n in "qkvo"}
    c = {n: rand(rng, *s) for n, s in shapes.items()}
    t = layouts.transformer_layer_canonical_to_torch(c)
    np.testing.assert_array_equal(t["self_attn.in_proj_weight"][D:2 * D], c["attn.W_k"].T)   # rows q|k|v
    for name, value in layouts.transformer_layer_torch_to_canonical(t).items():
        np.testing.assert_array_equal(value, c[name])
    k = layouts.attention_canonical_to_keras(c, heads)
    assert k["q_kernel"].shape == (D, heads, D // heads) and k["o_kernel"].shape == (heads, D // heads, D)
    back = layouts.attention_keras_to_canonical(*(k[n] for n in ("q_kernel", "q_bias", "k_kernel", "k_bias",
                                                                 "v_kernel", "v_bias", "o_kernel", "o_bias")))
    for name, value in back.items():
        np.testing.assert_array_equal(value, c[name])


# --- models -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,convention", [("gru", "reset_after"), ("lstm", "reset_after"),
                                             ("transformer", "reset_after")])
@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
def test_copy_weights_across_frameworks(arch, convention, direction):
    src, dst = direction.split("->")
    a = build_model(spec(arch, src, convention, seed=3))
    b = build_model(spec(arch, dst, convention, seed=4))
    x = rand(np.random.default_rng(4), 2, 6, 4)
    assert np.abs(a.forward(x) - b.forward(x)).max() > 1e-3    # different seeds -> different functions
    b.set_weights(a.get_weights())
    tol = 1e-4 if arch == "transformer" else 1e-5
    np.testing.assert_allclose(b.forward(x), a.forward(x), atol=tol, rtol=0)
    if not (arch == "lstm" and src == "torch"):   # a Keras LSTM folds torch's two biases into one
        for name, value in b.get_weights().items():
            np.testing.assert_allclose(value, a.get_weights()[name], atol=1e-7, err_msg=name)


def test_keras_reset_before_keeps_b_h_zero_and_outputs_unchanged():
    """A nonzero canonical b_h is folded into Keras's single bias (outputs unchanged)."""
    a = build_model(spec("gru", "keras", "reset_before", seed=1))
    w = a.get_weights()
    rng = np.random.default_rng(5)
    x = rand(rng, 2, 5, 4)
    w2 = dict(w)
    w2["l0.b_h"] = rand(rng, *w["l0.b_h"].shape)
    w2["l0.b_i"] = w["l0.b_i"] - w2["l0.b_h"]
    before = a.forward(x)
    a.set_weights(w2)
    np.testing.assert_allclose(a.forward(x), before, atol=1e-6)
    assert not a.get_weights()["l0.b_h"].any()


@pytest.mark.parametrize("arch,framework,convention", MODELS, ids=MODEL_IDS)
def test_num_params_matches_formula(arch, framework, convention):
    for layers in (1, 2):
        for X, H, O in ((1, 4, 1), (3, 8, 2), (5, 12, 7)):
            s = spec(arch, framework, convention, input_size=X, hidden=H, output_size=O, layers=layers)
            assert build_model(s).num_params() == formula_params(s), s


@pytest.mark.parametrize("arch,framework,convention", MODELS, ids=MODEL_IDS)
def test_streaming_matches_whole_sequence(arch, framework, convention):
    model = build_model(spec(arch, framework, convention, head="classes", seed=2))
    x = rand(np.random.default_rng(6), 2, 7, 4)
    state, outs = model.init_state(2), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        outs.append(np.asarray(out))
    np.testing.assert_allclose(np.stack(outs, axis=1), model.forward(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch,framework,convention", MODELS, ids=MODEL_IDS)
def test_get_weights_returns_copies(arch, framework, convention):
    model = build_model(spec(arch, framework, convention, layers=1))
    w = model.get_weights()
    kept = {k: v.copy() for k, v in w.items()}
    model.set_weights({k: v + 1 for k, v in w.items()})
    for k in w:
        np.testing.assert_array_equal(w[k], kept[k], err_msg=k)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_same_seed_same_weights(framework):
    a, b, c = (build_model(spec("lstm", framework, seed=seed)) for seed in (5, 5, 6))
    wa, wb, wc = a.get_weights(), b.get_weights(), c.get_weights()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert not np.array_equal(wa["l0.W_i"], wc["l0.W_i"])


def test_output_last_reads_the_last_position():
    for framework in ("torch", "keras"):
        seq = build_model(spec("transformer", framework, seed=7))
        last = build_model(spec("transformer", framework, output="last", seed=7))
        last.set_weights(seq.get_weights())
        x = rand(np.random.default_rng(7), 2, 5, 4)
        np.testing.assert_allclose(last.forward(x), seq.forward(x)[:, -1], atol=1e-6)
        assert last.encode(x).shape == (2, 5, 8)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_set_weights_wrong_shape_names_tensor_and_both_shapes(framework):
    model = build_model(spec("gru", framework))
    w = model.get_weights()
    w["l1.W_h"] = np.zeros((8, 25), np.float32)
    with pytest.raises(WeightShapeError) as err:
        model.set_weights(w)
    message = str(err.value)
    assert "'l1.W_h'" in message and "(8, 25)" in message and "(8, 24)" in message
    del w["l1.W_h"]
    with pytest.raises(UserError, match="l1.W_h"):
        model.set_weights(w)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_wrong_target_shape_is_a_user_error(framework):
    model = build_model(spec("lstm", framework, output="last"))
    x = rand(np.random.default_rng(8), 2, 5, 4)
    with pytest.raises(UserError, match=r"expected shape \(2, 3\)"):
        model.loss(x, np.zeros((2,), np.float32))


def test_native_tensors_pass_through():
    tm = build_model(spec("gru", "torch"))
    km = build_model(spec("gru", "keras"))
    x = rand(np.random.default_rng(9), 2, 5, 4)
    assert isinstance(tm.predict_native(torch.from_numpy(x)), torch.Tensor)
    assert isinstance(km.predict_native(tf.constant(x)), tf.Tensor)
    np.testing.assert_array_equal(np.asarray(km.predict_native(tf.constant(x))), km.forward(x))


def test_execution_paths():
    """PyTorch fuses LSTM (oneDNN) on the CPU in float32, not GRU; Keras trains in graph mode on CPU."""
    lstm, gru = build_model(spec("lstm", "torch")), build_model(spec("gru", "torch"))
    if torch.backends.mkldnn.is_available():
        assert lstm.execution_path()["fused_kernel"] is True
    assert gru.execution_path()["fused_kernel"] is False
    assert gru.execution_path()["mode"] == "eager"
    kgru = build_model(spec("gru", "keras"))
    path = kgru.execution_path()
    assert path["mode"] == "graph" and path["cudnn_eligible"] is True and path["device"] == "cpu"
    assert build_model(spec("gru", "keras", "reset_before")).execution_path()["cudnn_eligible"] is False


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_train_step_reduces_loss(framework):
    """Fit one batch of a toy regression (the mean of the inputs) with Adam + clipping."""
    rng = np.random.default_rng(10)
    x = rand(rng, 16, 6, 2)
    y = x.mean(axis=(1, 2))[:, None] * 3
    model = build_model(spec("gru", framework, input_size=2, output_size=1, layers=1, output="last"))
    model.configure_training(lr=0.02, clip_norm=1.0)
    first, before = model.loss(x, y), model.get_weights()
    losses = [model.train_step(x, y) for _ in range(40)]
    assert losses[0] == pytest.approx(first, rel=1e-5)
    assert model.loss(x, y) < 0.3 * first
    after = model.get_weights()   # get_weights returned copies, not views of the live parameters
    assert all(np.abs(after[k] - before[k]).max() > 0 for k in ("l0.W_h", "head.b"))


def test_train_step_needs_configure_training():
    model = build_model(spec("gru", "torch"))
    with pytest.raises(UserError, match="configure_training"):
        model.train_step(np.zeros((1, 2, 4), np.float32), np.zeros((1, 2, 3), np.float32))
