"""The floating-point policy: flush or keep subnormals, set per framework before the first op, observed by
probing the kernels; and the speed it buys: a recurrent train step grows about linearly in T only when
subnormals are flushed (with fresh weights, backprop through a few hundred steps makes them)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow   # fresh worker processes per framework

from suite.bench.fp_mode import MODE_FLUSH, MODE_KEEP, apply_policy, check_policy
from suite.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def in_fresh_process(code: str, threads: int = 1) -> list[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


@pytest.mark.parametrize("threads", [1, 2])
def test_the_policy_reaches_every_thread_of_numpy_and_torch(threads):
    for policy, expected in (("flush", MODE_FLUSH), ("keep", MODE_KEEP)):
        got = in_fresh_process(f"""
            from suite.bench.fp_mode import apply_policy, probe, current_mode
            apply_policy("{policy}", "numpy"); apply_policy("{policy}", "torch")
            import torch; torch.set_num_threads({threads})
            print(probe("numpy"), probe("torch"), current_mode())
        """, threads)
        assert got == [expected] * 3, (policy, threads, got)


def test_tensorflow_flushes_whatever_the_policy():
    got = in_fresh_process("""
        from suite.bench.fp_mode import apply_policy, probe
        apply_policy("keep", "keras")
        print(probe("keras"))
    """)
    assert got == [MODE_FLUSH]


def test_a_pool_started_before_the_policy_keeps_its_own_bits():
    """Why the policy is applied first: thread pools copy the bits when they start, not later."""
    got = in_fresh_process("""
        from suite.bench.fp_mode import apply_policy, probe
        import torch; torch.set_num_threads(2)
        probe("torch")                                   # starts the 2-thread pool with subnormals kept
        apply_policy("flush", "torch")
        print(probe("torch").split()[0])
    """, threads=2)
    assert got == ["mixed"]


@pytest.mark.parametrize("policy,expected", [("flush", MODE_FLUSH), ("keep", MODE_KEEP)])
def test_a_speed_worker_at_2_threads_runs_numpy_under_the_policy_in_every_thread(tmp_path, policy, expected):
    """OpenBLAS starts its pool when numpy loads: the worker applies the policy before that import, so the
    pool's threads copy it (a worker that applied it after its imports read 'mixed (ftz 100%, daz 75%)')."""
    from suite.bench.launcher import TimerOptions, run_worker
    from suite.bench.speed_worker import SPEED_WORKER, SpeedJobSpec, SpeedWorkerJob
    from suite.spec import ModelSpec
    spec = ModelSpec("gru", "numpy", input_size=3, hidden=4, output_size=2)
    job = SpeedWorkerJob(framework="numpy", threads=2, denormals=policy, peak_size=64,
                         timer=TimerOptions(n_samples=3, min_samples=3, min_sample_s=0.001, max_time_s=0.1),
                         jobs=[SpeedJobSpec(job_id=0, spec=spec.to_dict(), batch=2, seq_len=5, infer=False)])
    run = run_worker(SPEED_WORKER, job, timeout_s=120, workdir=tmp_path)
    assert run.problem is None, run.problem
    assert run.header.threads_applied["threads"] == 2 and run.header.fp_policy == policy
    assert run.header.fp_mode == expected and [r.fp_mode for r in run.records] == [expected]


@pytest.mark.parametrize("module", ["suite/bench/speed_worker.py", "suite/bench/memory_worker.py",
                                    "suite/edge/worker.py"])
def test_every_worker_applies_the_policy_before_it_imports_anything_that_starts_threads(module):
    """The speed worker's test above, for the memory and edge workers too: their first statement (after the
    docstring and ``from __future__``) applies the policy, before numpy or a runtime is imported."""
    import ast
    body = ast.parse((ROOT / module).read_text()).body
    body = [node for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
    first = body[0]
    assert isinstance(first, ast.If) and ast.unparse(first.test) == "__name__ == '__main__'", ast.unparse(first)
    assert [ast.unparse(n) for n in first.body] == ["from suite.bench.fp_mode import apply_startup_policy",
                                                    "apply_startup_policy()"]


def test_bad_policy_and_framework_are_user_errors():
    with pytest.raises(UserError, match="flush, keep"):
        check_policy("ftz")
    with pytest.raises(UserError, match="framework"):
        apply_policy("flush", "jax")


def test_in_process_training_function_is_exposed():
    got = in_fresh_process("""
        from suite.bench.threads import configure_floating_point
        print(*sorted(configure_floating_point("flush", {"numpy", "torch"}).values()))
    """)
    assert got == [MODE_FLUSH, MODE_FLUSH]


def test_cuda_on_a_machine_without_it_is_a_one_line_error(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = tmp_path / "gpu.yaml"
    cfg.write_text("device: cuda\nmodels: [gru-torch]\n")
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "suite", "run", str(cfg), "--out", str(out), "--stages", "speed"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "key 'device'" in lines[0] and "CUDA" in lines[0], r.stderr
    assert not out.exists()


# --- the speed it buys ---------------------------------------------------------------------------------------
LINEAR_BAND = (1.4, 2.8)        # T doubled: about twice the work (a little less: fixed costs per step)
MODELS = [("gru", "torch"), ("lstm", "torch"), ("gru", "numpy"), ("lstm", "numpy")]
TS = (100, 200, 400)
H, B = 64, 8


def train_step_floor(denormals: str, models=MODELS) -> dict:
    """{(model, T): the fastest train step sample (ms)} over 3 interleaved rounds at H=64, B=8, X=32.
    The minimum: on a shared machine the other processes only ever add time. The small batch keeps the
    fused nn.LSTM's gate workspace (B T 4H float32: 3.3 MB at T=400) below the size where this machine's
    cache stops holding it: past ~6-9 MB its train step grows ~1.5x faster than T whatever the
    floating-point policy (B=32, H=128: T=100 -> 150 costs 2.2x; B=32, H=64: T=200 -> 300 2.3x), a real
    effect but not this one. The NumPy models' step across the 2 MB L2 shows as ~2.4x in one doubling."""
    from suite.bench.speed import measure_speed
    from suite.spec import ModelSpec
    jobs = [(ModelSpec(a, f, 32, H, 1), B, T) for a, f in models for T in TS]
    rows = measure_speed(jobs, threads=1, repeats=3, isolate="framework", n_samples=10, min_samples=10,
                         min_sample_s=0.001, max_time_s=0.5, retakes=0, progress=False, denormals=denormals)
    out = {}
    for r in rows:
        if r["metric"] == "train_step_ms":
            assert r["status"] in ("ok", "unstable"), r["error"]
            out[(r["model"], r["T"])] = min(x for rnd in r["samples"]["rounds"] for x in rnd)
            assert r["fp_policy"] == denormals and r["fp_mode"] == (MODE_FLUSH if denormals == "flush" else MODE_KEEP)
    return out


def growth(floor: dict) -> dict:
    return {m: (floor[(m, 200)] / floor[(m, 100)], floor[(m, 400)] / floor[(m, 200)])
            for m in sorted({m for m, _ in floor})}


def show(title: str, floor: dict) -> None:
    print(f"\n{title}: train step (fastest sample, ms) at T={TS}, H={H}, B={B}; T200/T100, T400/T200")
    for m, (g1, g2) in growth(floor).items():
        print(f"  {m:11s} " + " ".join(f"{floor[(m, T)]:8.1f}" for T in TS) + f"   {g1:5.2f} {g2:5.2f}")


def outside_band(floor: dict) -> list[str]:
    return [m for m, ratios in growth(floor).items() if not all(LINEAR_BAND[0] <= g <= LINEAR_BAND[1] for g in ratios)]


RETAKES = 2


@pytest.mark.timing   # wall-clock ratios: run alone, after the rest
def test_train_step_grows_linearly_in_T_with_subnormals_flushed():
    """Retakes, like the timer's: on these shared VMs a whole measurement can run slow (seen on a quiet AMD
    EPYC: lstm-numpy's fastest T=200 sample 39.5 ms in one take, 22.8 ms in the next), so a model outside the
    band is measured again and each point keeps its fastest take (other processes only ever add time).
    The trap this guards against does not go away on a retake: with subnormals kept it is every take."""
    floor = train_step_floor("flush")
    show("denormals flush", floor)
    for _ in range(RETAKES):
        again = outside_band(floor)
        if not again:
            break
        retake = train_step_floor("flush", [(a, f) for a, f in MODELS if f"{a}-{f}" in again])
        floor = {k: min(v, retake.get(k, v)) for k, v in floor.items()}
        show(f"retake of {', '.join(again)}; fastest of the takes", floor)
    for m, ratios in growth(floor).items():
        assert all(LINEAR_BAND[0] <= g <= LINEAR_BAND[1] for g in ratios), (m, ratios)


SUBNORMAL_COUNT = """
    import numpy as np
    from suite.bench.fp_mode import apply_policy
    apply_policy("{policy}", "{framework}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 200, 32)).astype("float32")
    tiny = np.finfo(np.float32).tiny

    def input_gradient(arch):                  # d h_T.sum() / d x: the gradient carried back through 200 steps
        if "{framework}" == "torch":
            import torch
            torch.manual_seed(0)
            net = (torch.nn.GRU if arch == "gru" else torch.nn.LSTM)(32, 64, batch_first=True)
            xt = torch.tensor(x, requires_grad=True)
            net(xt)[0][:, -1].sum().backward()
            return xt.grad.numpy()
        from suite.models import build_model
        from suite.spec import ModelSpec
        model = build_model(ModelSpec(arch, "numpy", 32, 64, 1, seed=0))
        hs, caches = model._encode(x)                          # hs (T, B, H)
        dhs = np.zeros_like(hs); dhs[-1] = 1.0
        dx, _ = model._layer_backward(0, dhs, caches[0], need_dx=True)
        return dx

    print(*(int(((g != 0) & (np.abs(g) < tiny)).sum()) for g in map(input_gradient, ("gru", "lstm"))))
"""


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_backprop_through_200_steps_makes_subnormals_only_when_they_are_kept(framework):
    """The negative control, on any CPU: with fresh weights, backprop through T=200 makes subnormal gradient
    entries when they are kept (the trap: Intel CPUs take a microcode assist on each, ~100 cycles; AMD Zen
    handles most without one, so the slowdown itself depends on the CPU), and none under the flush policy."""
    kept = [int(c) for c in in_fresh_process(SUBNORMAL_COUNT.format(policy="keep", framework=framework))]
    flushed = [int(c) for c in in_fresh_process(SUBNORMAL_COUNT.format(policy="flush", framework=framework))]
    assert all(c > 0 for c in kept), kept
    assert flushed == [0, 0], flushed
