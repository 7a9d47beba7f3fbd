"""The floating-point policy: flush subnormal (denormal) floats to zero, or keep them (IEEE 754).

Why it is a declared policy: with fresh weights, backpropagation through a few hundred recurrent steps
produces subnormal float32 values (|x| < 2^-126 ~ 1.18e-38). On x86 an operation that reads or writes
one takes a microcode assist, ~10-100x slower than a normal one: a GRU train step at T=200 measured
~5-10x the time of T=100 instead of ~2x (PyTorch and NumPy). TensorFlow flushes them in its own op
threads whatever the process does, so timing frameworks under different policies compares the policies,
not the models.

The switch is two bits of the SSE control register MXCSR of the CALLING thread (x86-64):
    FTZ (flush to zero, bit 15, 0x8000)      a subnormal result is written as 0
    DAZ (denormals are zero, bit 6, 0x0040)  a subnormal operand is read as 0
Policies (config ``speed.denormals``):
    flush  FTZ = DAZ = 1   (what TensorFlow does in its op threads; the default)
    keep   FTZ = DAZ = 0   (IEEE 754 gradual underflow; the hardware default)

How the policy reaches every thread. The bits belong to a thread, and a new thread starts with a copy of its
creator's (pthread_create -> clone copies the FPU/SSE state); no framework re-reads the policy later. So a pool
that exists before the policy is set keeps the bits it started with: OpenBLAS starts its OPENBLAS_NUM_THREADS - 1
workers when numpy loads it, and a worker process that imported numpy first ran NumPy at 2 threads as
"mixed (ftz 100%, daz 75%)" (the caller's block flushed, the pool's block did not). Hence, in every worker
process (speed, memory, edge; ``suite.bench.launcher`` starts them):
    1. the launcher names the policy in the worker's environment (``POLICY_ENV`` = SUITE_DENORMALS);
    2. the worker module's first statement, before it imports numpy, torch, TensorFlow or a runtime, is
       ``apply_startup_policy()``: the main thread's MXCSR set through libm (below), which needs no package;
    3. every pool is created later, by that thread, and copies the bits: OpenBLAS's (when numpy loads it, and
       any thread it adds when ``set_threads`` raises its count), torch's OpenMP pool (on the first parallel
       op), TensorFlow's Eigen pools (on the first op), ONNX Runtime's and LiteRT's (when a session or
       interpreter is made);
    4. ``apply_policy(policy, framework)`` then runs again in the main thread for the framework
       (``torch.set_flush_denormal`` for torch; the same bits), and ``probe`` records what the kernels did.
How the bits are set, per framework (``apply_policy``):
    numpy  NumPy has no switch of its own; its ufuncs run in the calling thread and OpenBLAS in the calling
           thread plus its pool, so those threads' MXCSR decides. Set through libm's ``fegetenv``/``fesetenv``
           (glibc x86-64: ``fenv_t.__mxcsr`` at byte 28; ``fesetenv`` loads it with ``ldmxcsr``), which needs
           neither torch nor a compiled package (the PyPI package ``daz`` does the same in C but ships no
           wheels).
    torch  ``torch.set_flush_denormal(flag)`` (the same two bits, calling thread); torch's OpenMP pool
           is created lazily on the first parallel op, after this, and inherits them.
    keras  TensorFlow wraps every kernel in its own ``ScopedFlushDenormal``: it always flushes. With
           ``keep`` the ledger says so (``fp_policy`` keep, ``fp_mode`` ftz+daz: observed) instead of pretending.
What a row records (``fp_mode``) is observed, not intended: ``probe(framework)`` runs a matmul and an
elementwise product whose exact results are subnormal (FTZ test) or whose operands are (DAZ test) in
the framework itself, across its threads, and reports which were flushed.
Elsewhere than x86-64 glibc Linux the libm path is unavailable: torch's switch is used when torch is
importable (it also covers AArch64's FZ bit), but only in the calling thread and the pools started after it:
there the OpenBLAS pool that numpy started keeps the hardware default, and ``probe`` says so.

In-process training: ``suite.bench.threads.configure_floating_point(policy, frameworks)`` applies and
probes the policy in the calling thread; call it before the first op.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys

from suite.errors import UserError

POLICIES = ("flush", "keep")
DEFAULT_POLICY = "flush"
FTZ, DAZ = 0x8000, 0x0040             # MXCSR bits: flush-to-zero, denormals-are-zero
FENV_SIZE, MXCSR_OFFSET = 32, 28      # glibc x86-64 fenv_t: 32 bytes, __mxcsr at byte 28
MODE_FLUSH, MODE_KEEP = "ftz+daz", "ieee"
POLICY_ENV = "SUITE_DENORMALS"        # the policy a worker process applies first (``apply_startup_policy``)


def check_policy(policy, where: str = "speed.denormals") -> str:
    if policy not in POLICIES:
        raise UserError(f"{where}: expected one of {', '.join(POLICIES)}, got {policy!r}")
    return policy


# --- MXCSR through libm (x86-64 glibc) --------------------------------------------------------------
def _libm():
    """libm with fegetenv/fesetenv, or None where the fenv_t layout above does not apply."""
    if not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")):
        return None
    if platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("m") or "libm.so.6"
    try:
        lib = ctypes.CDLL(name)
        lib.fegetenv.argtypes = lib.fesetenv.argtypes = [ctypes.c_void_p]
        return lib
    except (OSError, AttributeError):
        return None


def read_mxcsr() -> int | None:
    """The calling thread's MXCSR, or None where it cannot be read this way."""
    lib = _libm()
    if lib is None:
        return None
    env = ctypes.create_string_buffer(FENV_SIZE)
    if lib.fegetenv(env) != 0:
        return None
    return int.from_bytes(env.raw[MXCSR_OFFSET:MXCSR_OFFSET + 4], "little")


def write_mxcsr_bits(flush: bool) -> bool:
    """Set (flush) or clear (keep) FTZ and DAZ in the calling thread's MXCSR; True when done."""
    lib = _libm()
    if lib is None:
        return False
    env = ctypes.create_string_buffer(FENV_SIZE)
    if lib.fegetenv(env) != 0:
        return False
    mxcsr = int.from_bytes(env.raw[MXCSR_OFFSET:MXCSR_OFFSET + 4], "little")
    mxcsr = (mxcsr | FTZ | DAZ) if flush else (mxcsr & ~(FTZ | DAZ))
    env[MXCSR_OFFSET:MXCSR_OFFSET + 4] = mxcsr.to_bytes(4, "little")
    return lib.fesetenv(env) == 0 and read_mxcsr() == mxcsr


# --- the policy ---------------------------------------------------------------------------------------
def current_mode() -> str:
    """The calling thread's bits: 'ftz+daz', 'ieee' (neither), 'ftz' / 'daz' (one), 'unknown' (unreadable)."""
    mxcsr = read_mxcsr()
    if mxcsr is None:
        return "unknown"
    bits = [name for name, bit in (("ftz", FTZ), ("daz", DAZ)) if mxcsr & bit]
    return "+".join(bits) if bits else MODE_KEEP


def apply_policy(policy: str, framework: str) -> None:
    """Apply ``policy`` (flush | keep) in the calling thread for ``framework`` (numpy | torch | keras).

    numpy: MXCSR through libm (torch's switch where libm's layout does not apply); torch:
    ``torch.set_flush_denormal``; keras: the Python thread only (TensorFlow's kernels flush anyway).
    Record what happened with ``probe(framework)``, not with the intent."""
    check_policy(policy)
    if framework not in ("numpy", "torch", "keras"):
        raise UserError(f"floating-point policy: unknown framework {framework!r}; expected numpy, torch or keras")
    flush = policy == "flush"
    done = write_mxcsr_bits(flush)
    if framework == "torch" or (not done and _torch_available()):
        import torch
        torch.set_flush_denormal(flush)        # False (and nothing set) on CPUs without the bits


def policy_environment(policy: str) -> dict[str, str]:
    """The environment variable that makes a worker process apply ``policy`` before its first import."""
    return {POLICY_ENV: check_policy(policy)}


def apply_startup_policy() -> str | None:
    """A worker process's first statement: the policy named by $SUITE_DENORMALS set in the main thread's MXCSR
    before numpy, torch, TensorFlow or a runtime is imported, so that every thread pool they start copies it
    (module docstring). Returns the policy set; None when the variable is unset or the bits cannot be set
    without a framework (not x86-64 glibc: ``apply_policy`` then uses torch's switch)."""
    policy = os.environ.get(POLICY_ENV)
    if policy is None:
        return None
    check_policy(policy, POLICY_ENV)
    return policy if write_mxcsr_bits(policy == "flush") else None


# --- what the kernels actually do --------------------------------------------------------------------
PROBE_SIZE = 512                       # large enough that every BLAS / intra-op thread computes a block
TINY_BITS = 0x0000_0200                # float32 2^-140: subnormal (below 2^-126), written as raw bits
NORMAL_SMALL, NORMAL_LARGE = 1e-21, 2.0 ** 100


def probe(framework: str) -> str:
    """The floating-point mode the framework's kernels run under, observed (all its threads).

    FTZ: a (n x n) @ (n x n) matmul of entries a = 1e-21 (normal) gives sums of n products 1e-42, a
         subnormal result: 0 wherever FTZ is on, ~5e-40 where it is off.
    DAZ: entries s = 2^-140 (subnormal, set as raw bits so no conversion flushes them) times entries
         2^100 give n 2^-40 = 2^-31 (normal): 0 wherever DAZ is on.
    The same two products elementwise cover the non-BLAS kernels. n = 512 spreads the matmul over every
    intra-op thread; a thread that does not flush leaves its block nonzero.
    Returns 'ftz+daz', 'ftz', 'daz', 'ieee', or 'mixed (ftz p%, daz q%)' when only part of the
    result was flushed (some threads flush, others do not)."""
    ftz_zero, daz_zero = _PROBES[framework]()
    flags = [name for name, frac in (("ftz", ftz_zero), ("daz", daz_zero)) if frac == 1.0]
    if any(0.0 < frac < 1.0 for frac in (ftz_zero, daz_zero)):
        return f"mixed (ftz {ftz_zero:.0%}, daz {daz_zero:.0%})"
    return "+".join(flags) if flags else MODE_KEEP


def _probe_numpy() -> tuple[float, float]:
    import numpy as np
    n = PROBE_SIZE
    small = np.full((n, n), NORMAL_SMALL, dtype=np.float32)
    tiny = np.full((n, n), TINY_BITS, dtype=np.uint32).view(np.float32)
    large = np.full((n, n), NORMAL_LARGE, dtype=np.float32)
    ftz = np.concatenate([(small @ small).ravel(), (small * small).ravel()])
    daz = np.concatenate([(tiny @ large).ravel(), (tiny * large).ravel()])
    return float(np.mean(ftz == 0)), float(np.mean(daz == 0))


def _probe_torch() -> tuple[float, float]:
    import torch
    n = PROBE_SIZE
    small = torch.full((n, n), NORMAL_SMALL, dtype=torch.float32)
    tiny = torch.full((n, n), TINY_BITS, dtype=torch.int32).view(torch.float32)
    large = torch.full((n, n), NORMAL_LARGE, dtype=torch.float32)
    ftz = torch.cat([(small @ small).ravel(), (small * small).ravel()])
    daz = torch.cat([(tiny @ large).ravel(), (tiny * large).ravel()])
    return float((ftz == 0).float().mean()), float((daz == 0).float().mean())


def _probe_keras() -> tuple[float, float]:
    import tensorflow as tf
    n = PROBE_SIZE
    small = tf.fill((n, n), tf.constant(NORMAL_SMALL, tf.float32))
    tiny = tf.bitcast(tf.fill((n, n), tf.constant(TINY_BITS, tf.int32)), tf.float32)
    large = tf.fill((n, n), tf.constant(NORMAL_LARGE, tf.float32))
    ftz = tf.concat([tf.reshape(small @ small, [-1]), tf.reshape(small * small, [-1])], 0)
    daz = tf.concat([tf.reshape(tiny @ large, [-1]), tf.reshape(tiny * large, [-1])], 0)
    zero = lambda t: float(tf.reduce_mean(tf.cast(tf.equal(t, 0.0), tf.float32)))  # noqa: E731
    return zero(ftz), zero(daz)


_PROBES = {"numpy": _probe_numpy, "torch": _probe_torch, "keras": _probe_keras}


def _torch_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("torch") is not None
