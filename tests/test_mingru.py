"""minGRU and minLSTM (Feng et al. 2024) in NumPy, PyTorch and Keras: the hand-written NumPy backward
against central differences (both scans), parallel == sequential and streaming == whole sequence in
every framework, parameter counts, FLOPs, the memory estimate, cross-framework equivalence with a
negative control, the spec's scan option and a training smoke test."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from test_numpy_models import STENCIL, batch, relative_error
from torch.utils.flop_counter import FlopCounterMode

from suite.errors import UserError
from suite.models import build_model, layouts
from suite.models.equivalence import EquivalenceCase, format_table, pairs, run_equivalence
from suite.models.flops import forward_flops, step_flops, train_step_flops
from suite.models.numpy.common import loss_and_grad
from suite.models.params import formula_params
from suite.run.resources import estimate_training_bytes
from suite.spec import ModelSpec

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

ARCHS = ["mingru", "minlstm"]
SCANS = ["parallel", "sequential"]
FRAMEWORKS = ["numpy", "torch", "keras"]
HEADS = [("last", "regression"), ("sequence", "classes"), ("sequence", "multilabel")]
HEAD_IDS = ["regression-last", "classes-sequence", "multilabel-sequence"]
B, T, X, H, O = 3, 5, 4, 6, 3


def spec(arch, framework, scan="parallel", **kw):
    base = dict(input_size=X, hidden=H, output_size=O, layers=2, output="sequence", head="regression", seed=1)
    return ModelSpec(arch, framework, scan=scan, **(base | kw))


# --- gradient check of the hand-written NumPy backward -------------------------------------------
# g(u) = u + 1/2 (u >= 0), sigmoid(u) (u < 0) is continuous with a kink at u = 0 (slope 1/4 -> 1), so the
# loss is only piecewise smooth in the parameters. A stencil point on the other side of the kink for any
# candidate pre-activation p makes the finite difference wrong, not the backward: each entry uses the
# largest step whose six points all leave the sign pattern of every p unchanged.
STEPS = (1e-2, 1e-3, 1e-4)


def loss_and_kink_side(model, x, y):
    """The loss, and p >= 0 for every candidate pre-activation of every layer (flattened)."""
    y_hat, (caches, _) = model.forward_with_cache(x)
    sides = []
    for k, (xs, _) in enumerate(caches):
        W, b = model.layer_params(k)
        sides.append(((xs @ W + b)[..., -model.spec.hidden:] >= 0).ravel())   # last block: p
    return loss_and_grad(model.spec.head, y_hat, y)[0], np.concatenate(sides)


def numeric_gradient(model, x, y, name, idx):
    """6th-order central difference at the largest kink-free step in STEPS; None if none is kink-free."""
    p = model.params[name]
    original = p[idx]
    _, side = loss_and_kink_side(model, x, y)
    try:
        for step in STEPS:
            total = 0.0
            for k, c in STENCIL.items():
                p[idx] = original + k * step
                loss, here = loss_and_kink_side(model, x, y)
                if not np.array_equal(here, side):
                    break
                total += c * loss
            else:
                return total / step
        return None
    finally:
        p[idx] = original


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output,head", HEADS, ids=HEAD_IDS)
@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("arch", ARCHS)
def test_numpy_backward_matches_central_differences(arch, scan, output, head, layers):
    model = build_model(spec(arch, "numpy", scan, layers=layers, output=output, head=head, dtype="float64"))
    x, y = batch(model, np.random.default_rng(0))
    grads = model.gradients(x, y)
    assert list(grads) == list(model.get_weights())
    errors, unchecked = [], []
    for name, p in model.params.items():
        assert grads[name].shape == p.shape
        for idx in np.ndindex(p.shape):
            numeric = numeric_gradient(model, x, y, name, idx)
            if numeric is None:
                unchecked.append((name, idx))
            else:
                errors.append(relative_error(grads[name][idx], numeric))
    assert not unchecked, unchecked            # every entry of every tensor checked
    assert max(errors) <= 1e-6, max(errors)


def test_the_kink_is_real():
    """Negative control for the kink handling: a fixed step of 1e-2 straddles g's kink somewhere and
    disagrees with the (correct) backward far above 1e-6."""
    model = build_model(spec("mingru", "numpy", layers=1, output="last", dtype="float64"))
    x, y = batch(model, np.random.default_rng(0))
    grads = model.gradients(x, y)
    worst = 0.0
    for idx in np.ndindex(model.params["l0.W"].shape):
        p, original, total = model.params["l0.W"], model.params["l0.W"][idx], 0.0
        for k, c in STENCIL.items():
            p[idx] = original + k * 1e-2
            total += c * model.loss(x, y)
        p[idx] = original
        worst = max(worst, relative_error(grads["l0.W"][idx], total / 1e-2))
    assert worst > 1e-3


# --- parallel == sequential, streaming == whole sequence ------------------------------------------
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_parallel_and_sequential_scans_agree(arch, framework):
    """float64, T = 40: same outputs and gradients from the log-space scan and the loop."""
    par = build_model(spec(arch, framework, "parallel", head="classes", dtype="float64"))
    seq = build_model(spec(arch, framework, "sequential", head="classes", dtype="float64", seed=2))
    seq.set_weights(par.get_weights())
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 40, X)), rng.integers(0, O, (2, 40))
    out_par, out_seq = par.forward(x), seq.forward(x)
    assert np.abs(out_par).max() > 0.05
    np.testing.assert_allclose(out_par, out_seq, rtol=0, atol=1e-12)
    g_par, g_seq = par.gradients(x, y), seq.gradients(x, y)
    assert list(g_par) == list(g_seq)
    for name in g_par:
        np.testing.assert_allclose(g_par[name], g_seq[name], rtol=0, atol=1e-12, err_msg=name)
    assert max(np.abs(g).max() for g in g_par.values()) > 1e-2


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_streaming_matches_whole_sequence(arch, framework, scan):
    model = build_model(spec(arch, framework, scan, hidden=16, dtype="float32"))
    x = np.random.default_rng(6).standard_normal((4, 12, X)).astype(np.float32)
    whole = model.forward(x)                                   # (B, T, O)
    state, outs = model.init_state(4), []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
        outs.append(np.asarray(out))
    np.testing.assert_allclose(np.stack(outs, axis=1), whole, rtol=0, atol=1e-5)
    assert np.abs(whole).max() > 0.05


def test_numpy_step_leaves_the_given_state_alone():
    model = build_model(spec("minlstm", "numpy"))
    state = model.init_state(2)
    model.step(np.ones((2, X)), state)
    assert not any(h.any() for h in state)


# --- parameters, FLOPs, memory --------------------------------------------------------------------
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_num_params_matches_formula(arch, framework):
    for layers in (1, 2, 3):
        for X_, H_, O_ in ((1, 1, 1), (3, 8, 2), (32, 64, 10)):
            s = spec(arch, framework, input_size=X_, hidden=H_, output_size=O_, layers=layers)
            assert build_model(s).num_params() == formula_params(s), s


def test_formula_by_hand():
    # minGRU X=2 H=3 O=1: 2 H (X + 1) = 18, head 3 + 1 -> 22; second layer 2 H (H + 1) = 24
    assert formula_params(ModelSpec("mingru", "torch", 2, 3, 1)) == 22
    assert formula_params(ModelSpec("mingru", "torch", 2, 3, 1, layers=2)) == 46
    # minLSTM: 3 H (X + 1) = 27, head 4 -> 31
    assert formula_params(ModelSpec("minlstm", "keras", 2, 3, 1)) == 31
    # X=32 H=64 O=10, head 64*10 + 10 = 650: minGRU 2*64*33 = 4'224, minLSTM 3*64*33 = 6'336,
    # against GRU 3*64*(32+64) + 2*3*64 = 18'816 and LSTM 4*64*96 + 2*4*64 = 25'088 (two biases, torch)
    assert formula_params(ModelSpec("mingru", "torch", 32, 64, 10)) == 4_224 + 650
    assert formula_params(ModelSpec("minlstm", "torch", 32, 64, 10)) == 6_336 + 650
    assert formula_params(ModelSpec("gru", "torch", 32, 64, 10)) == 18_816 + 650
    assert formula_params(ModelSpec("lstm", "torch", 32, 64, 10)) == 25_088 + 650


def test_flops_hand_count_and_torch_flop_counter():
    s = ModelSpec("mingru", "torch", input_size=2, hidden=3, output_size=1, layers=2)
    # layer 0: 2 T X 2H = 2*2*2*6 = 48; layer 1: 2 T H 2H = 72; head (last) 2 H O = 6; no recurrent matmul
    assert forward_flops(s, batch=1, seq_len=2) == 48 + 72 + 6
    assert forward_flops(s.with_(arch="minlstm"), batch=1, seq_len=2) == 72 + 108 + 6
    assert step_flops(s, context=9) == forward_flops(s, 1, 1)
    for arch in ARCHS:
        for scan in SCANS:
            spec_ = ModelSpec(arch, "torch", 4, 6, 2, layers=2, scan=scan)
            net = build_model(spec_).net
            x = torch.randn(3, 5, 4)
            with FlopCounterMode(display=False) as counter:
                net(x)
            assert counter.get_total_flops() == forward_flops(spec_, 3, 5)
            assert train_step_flops(spec_, 3, 5) == 3 * forward_flops(spec_, 3, 5)


def test_memory_estimate():
    s = ModelSpec("minlstm", "torch", 8, 16, 2, layers=2)
    acts = 2 * 4 * 10 * (3 + 3) * 16                           # L B T (G + 3) H
    assert estimate_training_bytes(s, 4, 10) == 4 * (3 * acts + 4 * formula_params(s) + 4 * 10 * (8 + 2))
    assert estimate_training_bytes(s.with_(arch="mingru"), 4, 10) < estimate_training_bytes(s, 4, 10)


# --- spec --------------------------------------------------------------------------------------------
def test_scan_option_in_the_spec():
    assert ModelSpec("mingru", "torch", 1, 1, 1).scan == "parallel"
    assert ModelSpec("minlstm", "keras", 1, 1, 1, scan="sequential").name == "minlstm-keras-sequential"
    assert ModelSpec("mingru", "numpy", 1, 1, 1).name == "mingru-numpy"
    with pytest.raises(UserError, match="scan='sequential' applies to mingru/minlstm only"):
        ModelSpec("gru", "torch", 1, 1, 1, scan="sequential")
    with pytest.raises(UserError, match="unknown scan 'fast'"):
        ModelSpec("mingru", "torch", 1, 1, 1, scan="fast")
    with pytest.raises(UserError, match="convention"):
        ModelSpec("mingru", "keras", 1, 1, 1, convention="reset_before")
    s = ModelSpec("minlstm", "torch", 1, 1, 1, scan="sequential")
    assert ModelSpec(**s.to_dict()) == s


def test_layout_converters_round_trip():
    rng = np.random.default_rng(4)
    W, b = rng.standard_normal((5, 3 * 4)), rng.standard_normal(3 * 4)
    t = layouts.minrnn_canonical_to_torch(W, b)
    assert t["weight"].shape == (12, 5)
    back = layouts.minrnn_torch_to_canonical(**t)
    np.testing.assert_array_equal(back["W"], W)
    np.testing.assert_array_equal(back["b"], b)
    k = layouts.minrnn_canonical_to_keras(W, b)
    np.testing.assert_array_equal(layouts.minrnn_keras_to_canonical(**k)["W"], W)


# --- cross-framework equivalence ----------------------------------------------------------------------
MIN_PAIRS = [p for p in pairs() if p.arch in ARCHS]


def test_pairs_cover_every_framework_pair_and_both_scans():
    for arch in ARCHS:
        mine = [p for p in MIN_PAIRS if p.arch == arch]
        assert {frozenset((p.a, p.b)) for p in mine} == {frozenset(ab) for ab in
                                                        (("numpy", "torch"), ("numpy", "keras"), ("torch", "keras"))}
        assert any(p.scan_a != p.scan_b for p in mine)
        for fw in FRAMEWORKS:
            assert {p.scan_a for p in mine if p.a == fw} | {p.scan_b for p in mine if p.b == fw} == set(SCANS)


def test_equivalence_of_the_new_pairs():
    """Every minGRU/minLSTM pair at L=2, T=37, B=5, classes per step (the largest of the SHAPES)."""
    cases = [EquivalenceCase(p.arch, p.a, p.b, L=2, T=37, B=5, head="classes", output="sequence",
                             scan_a=p.scan_a, scan_b=p.scan_b) for p in MIN_PAIRS]
    rows = run_equivalence(cases)
    assert all(r["ok"] for r in rows), "\n" + format_table(rows) + "\n" + "\n".join(r["error"] for r in rows)
    assert all(r["out_tol"] == 1e-5 and r["grad_tol"] == 1e-4 and r["max_abs_grad"] > 1e-2 for r in rows)


def _swap_first_two_blocks(a, G):
    blocks = np.split(np.asarray(a), G, axis=-1 if np.ndim(a) == 1 else 0)
    return np.concatenate([blocks[1], blocks[0], *blocks[2:]], axis=-1 if np.ndim(a) == 1 else 0)


@pytest.mark.parametrize("arch,G", [("mingru", 2), ("minlstm", 3)])
def test_swapped_gate_blocks_are_caught(monkeypatch, arch, G):
    """Negative control: a torch converter that swaps z|h (minGRU) or f|i (minLSTM) rows both ways
    (weights round-trip, yet the network computes another function)."""
    def to_torch(W, b):
        return {"weight": _swap_first_two_blocks(np.asarray(W).T, G), "bias": _swap_first_two_blocks(b, G)}

    def from_torch(weight, bias):
        return {"W": _swap_first_two_blocks(weight, G).T.copy(), "b": _swap_first_two_blocks(bias, G)}

    monkeypatch.setattr(layouts, "minrnn_canonical_to_torch", to_torch)
    monkeypatch.setattr(layouts, "minrnn_torch_to_canonical", from_torch)
    (row,) = run_equivalence([EquivalenceCase(arch, "numpy", "torch", L=1, T=37, B=5)])
    assert row["error"] == ""
    assert not row["ok"] and row["max_out_diff"] > 1e-2, row


# --- training ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_adam_steps_reduce_the_loss(arch, framework, scan):
    """A few Adam steps on one tiny regression batch (3 x the mean of the inputs)."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((16, 6, 2)).astype(np.float32)
    y = x.mean(axis=(1, 2))[:, None] * 3
    model = build_model(spec(arch, framework, scan, input_size=2, hidden=8, output_size=1, layers=1,
                             output="last", dtype="float32"))
    model.configure_training(lr=0.02, clip_norm=1.0)
    first, before = model.loss(x, y), model.get_weights()
    losses = [model.train_step(x, y) for _ in range(40)]
    assert losses[0] == pytest.approx(first, rel=1e-5)
    assert all(np.isfinite(losses))
    assert model.loss(x, y) < 0.3 * first, (first, model.loss(x, y))
    after = model.get_weights()
    assert all(np.abs(after[k] - before[k]).max() > 0 for k in after)


@pytest.mark.parametrize("scan", SCANS)
def test_keras_forms_compile_with_xla(scan):
    """Keras's jit_compile='auto' means XLA where a GPU exists: both forms (the sequential one through
    tf.scan's bounded loop) must compile with their gradients, and agree with the graph-mode ones."""
    from suite.models.keras.common import tf
    model = build_model(spec("minlstm", "keras", scan, dtype="float32"))
    x = tf.constant(np.random.default_rng(7).standard_normal((3, 11, X)).astype(np.float32))
    y = np.random.default_rng(8).standard_normal((3, 11, O)).astype(np.float32)
    variables = [model.variables()[n] for n in ("l0.kernel", "head.kernel")]

    @tf.function(jit_compile=True)
    def forward_and_grads(x):
        with tf.GradientTape() as tape:
            out = model.model(x)
            loss = tf.reduce_mean((out - y) ** 2)
        return out, tape.gradient(loss, variables)

    out, (d_kernel, d_head) = forward_and_grads(x)
    np.testing.assert_allclose(out.numpy(), model.forward(x.numpy()), rtol=0, atol=1e-5)
    grads = model.gradients(x.numpy(), y)
    np.testing.assert_allclose(d_kernel.numpy(), grads["l0.W"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(d_head.numpy(), grads["head.W"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("arch", ARCHS)
def test_numpy_float32_stays_float32(arch, scan):
    model = build_model(spec(arch, "numpy", scan, head="multilabel", dtype="float32"))
    x, y = batch(model, np.random.default_rng(0))
    assert model.forward(x).dtype == np.float32 and model.encode(x).shape == (B, T, H)
    assert all(g.dtype == np.float32 for g in model.gradients(x, y).values())
    model.configure_training(1e-3, 1.0)
    model.train_step(x, y)
    assert all(w.dtype == np.float32 for w in model.get_weights().values())
    out, state = model.step(x[:, 0], model.init_state(B))
    assert out.dtype == np.float32 and state[0].dtype == np.float32
