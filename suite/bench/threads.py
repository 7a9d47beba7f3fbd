"""Thread counts, set before a framework's first op.

``set_threads(n, framework)`` fixes one framework's intra-op pool in a fresh worker process (speed);
``thread_env(n)`` is the environment that does the same for a child process; ``configure_process``
sets every framework of an in-process run (training) and turns on Keras op determinism;
``configure_floating_point`` applies the floating-point policy (subnormals flushed or kept) to an
in-process run the same way the speed workers apply it.
TensorFlow refuses to change its thread counts after its first op, so all of this must run before
any TensorFlow computation in the process.
"""
from __future__ import annotations

import os

from suite.errors import UserError

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "TF_NUM_INTRAOP_THREADS")


def configure_process(threads: int, frameworks: set[str], deterministic: bool = True) -> None:
    """Same intra-op thread count for every framework in this process; op determinism for Keras."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if "torch" in frameworks:
        import torch
        torch.set_num_threads(threads)
    if "keras" in frameworks:
        from suite.models.keras.common import tf  # imports TensorFlow quietly, Keras on its backend
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # already initialised in this process (e.g. a notebook kernel that ran TF before)
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def thread_env(n: int) -> dict[str, str]:
    """Environment variables that fix BLAS/OpenMP/TF pools to ``n`` threads in a child process."""
    env = {k: str(n) for k in THREAD_ENV_VARS}
    env["TF_NUM_INTEROP_THREADS"] = "1"
    return env


def set_threads(n: int, framework: str) -> dict:
    """Fix the intra-op thread count to ``n`` for ``framework`` (numpy | torch | keras).

    Call it in a fresh process before the framework's first op: TensorFlow refuses a change
    after that, and OpenBLAS/MKL read OMP_NUM_THREADS when numpy loads them (if numpy is already
    imported, threadpoolctl limits the loaded BLAS pools instead). Inter-op parallelism is set to 1
    (torch runs eager ops one after another; TF then does the same). Returns what was set.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise UserError(f"threads must be a positive integer, got {n!r}")
    os.environ.update(thread_env(n))
    applied = {"threads": n, "framework": framework}
    if framework == "numpy":
        applied["blas_pools"] = _limit_loaded_blas(n)
    elif framework == "torch":
        import torch
        torch.set_num_threads(n)
        applied["torch_threads"] = torch.get_num_threads()
    elif framework == "keras":
        applied.update(_set_tf_threads(n))
    else:
        raise UserError(f"set_threads: unknown framework {framework!r}; expected numpy, torch or keras")
    return applied


def _limit_loaded_blas(n: int) -> int:
    """Limit already-loaded BLAS pools (numpy imported before the env was set). Returns the count."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return 0
    threadpool_limits(limits=n)   # not used as a context manager: stays in force for the process
    return len(threadpool_info())


def _set_tf_threads(n: int) -> dict:
    import tensorflow as tf
    threading = tf.config.threading
    if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) == (n, 1):
        return {"tf_intra_op": n, "tf_inter_op": 1}
    if threading.get_intra_op_parallelism_threads() not in (0, n):
        raise RuntimeError("set_threads: TensorFlow already runs with "
                           f"{threading.get_intra_op_parallelism_threads()} intra-op threads; "
                           "call it in a fresh process before the first op")
    try:
        threading.set_intra_op_parallelism_threads(n)
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as err:   # "cannot be modified after initialization"
        raise RuntimeError(f"set_threads: TensorFlow refused the thread count ({err}); call it in "
                           "a fresh process before the first op") from err
    return {"tf_intra_op": threading.get_intra_op_parallelism_threads(),
            "tf_inter_op": threading.get_inter_op_parallelism_threads()}


def configure_floating_point(policy: str = "flush", frameworks=("numpy", "torch")) -> dict[str, str]:
    """The floating-point policy (flush | keep subnormals, config ``speed.denormals``) for in-process work such
    as training, in the calling thread: call it before the frameworks' first op (thread pools copy the bits
    when they start). Returns {framework: the mode observed in its kernels} (``suite.bench.fp_mode``);
    TensorFlow (keras) always flushes in its own kernels, so it is probed but not switched."""
    from suite.bench.fp_mode import apply_policy, probe
    frameworks = sorted(set(frameworks))
    for fw in frameworks:
        apply_policy(policy, fw)
    return {fw: probe(fw) for fw in frameworks}
