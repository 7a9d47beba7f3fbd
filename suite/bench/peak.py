"""The machine's measured float32 matmul peak per framework (what "fraction of peak" divides by).

One square (size x size) @ (size x size) matmul per call, 2 size^3 FLOPs, timed with
``suite.bench.timer.Timer`` in the thread count the models use; the best over the framework's
matmul paths counts as its peak. With device 'cuda' (torch only) the matmul runs on the GPU, timed
with ``torch.cuda.synchronize`` as the sync hook.
"""
from __future__ import annotations

from functools import lru_cache

from suite.bench.threads import set_threads
from suite.bench.timer import Timer
from suite.errors import UserError


def matmul_peak_gflops(threads: int, framework: str, size: int = 1024, max_time_s: float = 2.0) -> float:
    """Measured float32 GFLOP/s of the best (size x size) @ (size x size) matmul in ``framework``.

    The best over the framework's matmul paths (``matmul_gflops_by_path``): on this machine torch's
    ``torch.mm`` goes through MKL (~105 GFLOP/s on one AMD EPYC core) while its oneDNN path reaches
    ~240, as TensorFlow's does; a fused oneDNN kernel (nn.LSTM) would otherwise exceed "the peak".
    """
    return max(matmul_gflops_by_path(threads, framework, size, max_time_s).values())


def matmul_gflops_by_path(threads: int, framework: str, size: int = 1024,
                          max_time_s: float = 2.0, device: str = "cpu") -> dict[str, float]:
    """GFLOP/s per matmul path: 2 size^3 FLOPs per call over the median time of
    ``suite.bench.timer.Timer``. The thread count must be the one the measured models use: torch and
    numpy are set here; TensorFlow must already run with it (``suite.bench.threads.set_threads`` in a
    fresh process) or this raises."""
    for key, value in (("threads", threads), ("size", size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"matmul peak: {key} must be a positive integer, got {value!r}")
    return dict(_peaks_cached(threads, framework, size, max_time_s, device))


@lru_cache(maxsize=None)
def _peaks_cached(threads: int, framework: str, size: int, max_time_s: float, device: str = "cpu") -> tuple:
    set_threads(threads, framework)
    out = []
    fns, sync = (_cuda_matmul_fns(size, device) if device != "cpu" and framework == "torch"
                 else (_matmul_fns(framework, size), None))
    for path, matmul in fns.items():
        m = Timer(matmul, label=f"matmul {size} {path}", threads=threads, sync=sync).measure(
            n_samples=7, min_sample_s=0.02, max_time_s=max_time_s)
        out.append((path, 2 * size ** 3 / m.median / 1e9))
    return tuple(out)


def _cuda_matmul_fns(size: int, device: str) -> tuple[dict, object]:
    """torch.mm on the GPU, and the synchronize the timer needs around it."""
    import torch
    a = torch.randn(size, size, generator=torch.Generator().manual_seed(0)).to(device)
    return {f"torch.mm {device}": lambda: torch.mm(a, a)}, torch.cuda.synchronize


def _matmul_fns(framework: str, size: int) -> dict:
    """Zero-argument callables, one float32 square matmul each, per available path."""
    if framework == "numpy":
        import numpy as np
        a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
        return {"numpy matmul": lambda: a @ a}
    if framework == "torch":
        import torch
        a = torch.randn(size, size, generator=torch.Generator().manual_seed(0))
        fns = {"torch.mm": lambda: torch.mm(a, a)}
        if torch.backends.mkldnn.is_available():
            a_onednn = a.to_mkldnn()
            fns["onednn linear"] = lambda: torch._C._nn.mkldnn_linear(a_onednn, a_onednn)
        return fns
    if framework == "keras":
        import tensorflow as tf
        a = tf.random.stateless_normal((size, size), seed=(0, 0), dtype=tf.float32)
        return {"tf.linalg.matmul": lambda: tf.linalg.matmul(a, a)}   # eager CPU ops run synchronously
    raise UserError(f"matmul_peak_gflops: unknown framework {framework!r}; expected numpy, torch or keras")
