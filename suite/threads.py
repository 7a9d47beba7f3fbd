"""Thread counts and determinism for in-process work (training), set before the first op.

TensorFlow refuses to change its thread counts after its first op, so this must run before any
TensorFlow computation in the process; speed measurements use fresh worker processes instead.
"""
from __future__ import annotations

import os


def configure_process(threads: int, frameworks: set[str], deterministic: bool = True) -> None:
    """Same intra-op thread count for every framework in this process; op determinism for Keras."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if "torch" in frameworks:
        import torch
        torch.set_num_threads(threads)
    if "keras" in frameworks:
        from suite.models.keras_common import tf  # imports TensorFlow quietly, Keras on its backend
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # already initialised in this process (e.g. a notebook kernel that ran TF before)
        if deterministic:
            tf.config.experimental.enable_op_determinism()
