"""A small cross-framework timer, modelled on torch.utils.benchmark's ``Timer`` and asv.

Measurement runs in four phases:

1. calibrate (doubles as the warm-up): one untimed call (tracing, allocation, first-touch), then the
   loop count ``number`` grows until one block of ``number`` calls takes >= ``min_sample_s``. ``abort_if(per_call)``
   may refuse the calibrated cost per call (``MeasurementAborted``): the speed workers use it to give up
   on a thread count that the machine's other processes make pathologically slow.
2. sample: each sample is the mean time per call over one block of ``number`` calls,
   ``s_i = (t_end - t_start) / number`` with ``time.perf_counter``; ``sync()`` is called before
   the clock starts and before it stops (a CUDA synchronize; a no-op on CPU).
3. check for drift (``suite.bench.drift``): the first half of the samples against the second half
   (Mann-Whitney U p < 0.01 and medians > 10% apart). A drifting set of samples is discarded and the
   sampling phase re-taken (``retakes``, default 1, with the same ``number``); if the last set still
   drifts the measurement is ``unstable``: the speed rows record it with status 'unstable', not as a
   plain number. The discarded sets stay in ``meta['discarded']``.
4. summarise: a ``Measurement`` with median, quartiles q1/q3, IQR = q3 - q1, n samples, the
   calls per sample and the raw samples; ``noisy`` when IQR / median > 0.10 (torch's warning).

Budget: sampling stops once ``max_time_s`` (calibration included) would be exceeded, but never
before ``min_samples`` samples exist, so the wall time of one take is at most about
max(max_time_s, (2 + min_samples) x one block); each retake has the same budget for its samples.
Garbage collection is off inside a block (as in ``timeit``).

Thread counts are explicit (torch's Timer silently uses 1 thread unless told): call
``suite.bench.threads.set_threads(n, framework)`` in a fresh process before the first framework op.
"""
from __future__ import annotations

import gc
import math
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from suite.bench.drift import drift_check
from suite.errors import UserError

NOISY_RELATIVE_IQR = 0.10    # IQR / median above this flags a measurement as noisy
DEFAULT_MIN_SAMPLE_S = 0.05  # one sample (block of `number` calls) lasts at least this long
DEFAULT_SAMPLES = 10         # samples wanted
DEFAULT_MIN_SAMPLES = 3      # samples taken even when the budget is spent
DEFAULT_MAX_TIME_S = 5.0     # budget per measurement, calibration included
DEFAULT_RETAKES = 1          # a drifting set of samples is re-taken this many times at most


class MeasurementAborted(Exception):
    """``Timer.measure``'s ``abort_if`` refused the calibrated cost per call (its message says why)."""


def _no_sync() -> None:
    """Default sync hook: CPU work is finished when the call returns."""


def quantiles(samples: list[float]) -> tuple[float, float, float]:
    """(q1, median, q3) with linear interpolation (numpy's default); one sample gives it thrice."""
    xs = sorted(samples)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


@dataclass
class Measurement:
    """Summary of one timing: seconds per call. ``samples[i]`` is the mean over ``number`` calls."""

    samples: list[float]
    number: int
    label: str = ""
    threads: int | None = None
    calibration_s: float = 0.0      # wall time spent in warm-up + calibration
    total_s: float = 0.0            # wall time of the whole measurement
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float:
        return quantiles(self.samples)[1]

    @property
    def q1(self) -> float:
        return quantiles(self.samples)[0]

    @property
    def q3(self) -> float:
        return quantiles(self.samples)[2]

    @property
    def iqr(self) -> float:
        q1, _, q3 = quantiles(self.samples)
        return q3 - q1

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    @property
    def relative_iqr(self) -> float:
        return self.iqr / self.median if self.median > 0 else math.inf

    @property
    def noisy(self) -> bool:
        return self.relative_iqr > NOISY_RELATIVE_IQR

    @property
    def drift(self) -> dict:
        """First half vs second half of the samples: {'tested', 'p', 'shift', 'drifting'} (computed once
        per set of samples)."""
        key = tuple(self.samples)
        if getattr(self, "_drift_key", None) != key:
            self._drift_key, self._drift = key, drift_check(self.samples)
        return self._drift

    @property
    def unstable(self) -> bool:
        """The samples still drift (after the retakes the timer was allowed)."""
        return self.drift["drifting"]

    @property
    def retakes(self) -> int:
        return len(self.meta.get("discarded", []))

    def to_dict(self) -> dict:
        """Plain JSON-able dict: the raw fields plus the summary."""
        d = asdict(self)
        drift = self.drift
        d.update(n=self.n, median=self.median, q1=self.q1, q3=self.q3, iqr=self.iqr,
                 noisy=self.noisy, drift_p=drift["p"], drift_shift=drift["shift"],
                 unstable=drift["drifting"], retakes=self.retakes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Measurement":
        keys = ("samples", "number", "label", "threads", "calibration_s", "total_s", "meta")
        return cls(**{k: d[k] for k in keys if k in d})

    def __repr__(self) -> str:
        flag = ("  NOISY" if self.noisy else "") + ("  UNSTABLE" if self.unstable else "")
        return (f"<Measurement {self.label or ''} median {format_seconds(self.median)} "
                f"IQR {format_seconds(self.iqr)} ({self.relative_iqr:.1%}) "
                f"n={self.n} x {self.number} calls{flag}>")


def load_average() -> float | None:
    """1-minute load average (runnable processes): above the core count, others compete for the CPU
    and threads > 1 can slow down many times (OpenMP barriers wait on descheduled threads)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def format_seconds(s: float) -> str:
    """Human time: 12.3 ms, 45.6 us, 1.23 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


class Timer:
    """Times ``fn()``: ``Timer(fn).measure()`` -> Measurement (seconds per call).

    fn: the statement, a zero-argument callable.
    setup_each: optional callable run before EVERY call, outside the clock (e.g. restore a
        streaming state). It forces number = 1: each sample is then one call.
    sync: called before the clock starts and before it stops (CUDA synchronize); no-op default.
    """

    def __init__(self, fn: Callable[[], object], *, label: str = "",
                 setup_each: Callable[[], object] | None = None,
                 sync: Callable[[], object] | None = None, threads: int | None = None,
                 disable_gc: bool = True, clock: Callable[[], float] = time.perf_counter):
        if not callable(fn):
            raise UserError(f"Timer: fn must be callable, got {type(fn).__name__}")
        self.fn, self.label, self.setup_each = fn, label, setup_each
        self.sync = sync or _no_sync
        self.threads, self.disable_gc, self.clock = threads, disable_gc, clock

    # --- phase 0: one timed block ------------------------------------------------------
    def time_block(self, number: int) -> float:
        """Wall seconds of ``number`` calls (setup_each excluded), sync'ed at both ends."""
        gc_was_on = gc.isenabled()
        if self.disable_gc:
            gc.disable()
        try:
            if self.setup_each is None:
                return self._block_plain(number)
            return sum(self._one_call_with_setup() for _ in range(number))
        finally:
            if gc_was_on:
                gc.enable()

    def _block_plain(self, number: int) -> float:
        fn = self.fn
        self.sync()
        t0 = self.clock()
        for _ in range(number):
            fn()
        self.sync()
        return self.clock() - t0

    def _one_call_with_setup(self) -> float:
        self.setup_each()
        self.sync()
        t0 = self.clock()
        self.fn()
        self.sync()
        return self.clock() - t0

    # --- phase 1: calibrate (and warm up) ----------------------------------------------
    def calibrate(self, min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
                  max_time_s: float = DEFAULT_MAX_TIME_S) -> tuple[int, float]:
        """Warm up, then grow ``number`` until one block lasts >= min_sample_s.

        Returns (number, seconds per call of the last calibration block). The growth factor is
        the shortfall estimate x 1.2, at least 2 and at most 10; it stops early when the budget is
        spent (the last number then stands).
        """
        start = self.clock()
        self.time_block(1)                       # warm-up call, discarded
        if self.setup_each is not None:          # one call per sample: nothing to calibrate
            return 1, self.time_block(1)
        number = 1
        while True:
            elapsed = self.time_block(number)
            if elapsed >= min_sample_s or self.clock() - start + 2 * elapsed > max_time_s:
                return number, elapsed / number
            grow = 1.2 * min_sample_s / max(elapsed, 1e-9)
            number = int(number * min(10.0, max(2.0, grow)))

    # --- phase 2 + 3: sample and summarise ---------------------------------------------
    def measure(self, n_samples: int = DEFAULT_SAMPLES, *,
                min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
                max_time_s: float = DEFAULT_MAX_TIME_S,
                min_samples: int = DEFAULT_MIN_SAMPLES,
                until_relative_iqr: float | None = None,
                retakes: int = DEFAULT_RETAKES,
                abort_if: Callable[[float], str | None] | None = None) -> Measurement:
        """Calibrate, then take up to ``n_samples`` samples within ``max_time_s``; re-take them (at most
        ``retakes`` times) while they drift (module docstring).

        until_relative_iqr: stop early once IQR/median <= this (and >= min_samples samples).
        """
        _check_budget(n_samples, min_samples, min_sample_s, max_time_s)
        if not isinstance(retakes, int) or isinstance(retakes, bool) or retakes < 0:
            raise UserError(f"timer: retakes must be an integer >= 0, got {retakes!r}")
        load_before = load_average()
        start = self.clock()
        number, per_call = self.calibrate(min_sample_s, max_time_s)
        calibration_s = self.clock() - start
        reason = abort_if(per_call) if abort_if is not None else None
        if reason:
            raise MeasurementAborted(reason)
        samples = self._take(number, per_call * number, start, n_samples, min_samples, max_time_s,
                             until_relative_iqr)
        discarded: list[list[float]] = []
        while drift_check(samples)["drifting"] and len(discarded) < retakes:
            discarded.append(samples)
            samples = self._take(number, per_call * number, self.clock() - calibration_s, n_samples,
                                 min_samples, max_time_s, until_relative_iqr)
        meta = {"load_before": load_before, "load_after": load_average(), "cpus": os.cpu_count()}
        if discarded:
            meta["discarded"] = discarded
        return Measurement(samples, number, label=self.label, threads=self.threads,
                           calibration_s=calibration_s, total_s=self.clock() - start, meta=meta)

    def _take(self, number: int, block_s: float, start: float, n_samples: int, min_samples: int,
              max_time_s: float, until_relative_iqr: float | None) -> list[float]:
        """One set of samples: blocks of ``number`` calls until n_samples, or until the budget (counted
        from ``start``) is spent and min_samples exist, or until IQR/median <= until_relative_iqr."""
        samples: list[float] = []
        while len(samples) < n_samples:
            over_budget = self.clock() - start + block_s > max_time_s
            if len(samples) >= min_samples and over_budget:
                break
            block_s = self.time_block(number)
            samples.append(block_s / number)
            if until_relative_iqr is not None and len(samples) >= min_samples:
                if Measurement(samples, number).relative_iqr <= until_relative_iqr:
                    break
        return samples

    def blocked_autorange(self, min_run_time: float = 0.2,
                          min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
                          max_time_s: float = DEFAULT_MAX_TIME_S) -> Measurement:
        """torch's blocked_autorange: sample until the samples cover >= min_run_time seconds."""
        number = max(1, self.calibrate(min_sample_s, max_time_s)[0])
        samples, start = [], self.clock()
        while sum(samples) * number < min_run_time and self.clock() - start < max_time_s:
            samples.append(self.time_block(number) / number)
        return Measurement(samples, number, label=self.label, threads=self.threads,
                           total_s=self.clock() - start)

    def adaptive_autorange(self, threshold: float = NOISY_RELATIVE_IQR, max_samples: int = 100,
                           min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
                           max_time_s: float = DEFAULT_MAX_TIME_S) -> Measurement:
        """torch's adaptive_autorange: sample until IQR/median <= threshold or the budget ends."""
        return self.measure(max_samples, min_sample_s=min_sample_s, max_time_s=max_time_s,
                            until_relative_iqr=threshold)


def _check_budget(n_samples: int, min_samples: int, min_sample_s: float, max_time_s: float) -> None:
    if not (isinstance(n_samples, int) and n_samples >= 1):
        raise UserError(f"timer: n_samples must be a positive integer, got {n_samples!r}")
    if not (isinstance(min_samples, int) and 1 <= min_samples):
        raise UserError(f"timer: min_samples must be a positive integer, got {min_samples!r}")
    if not min_sample_s > 0 or not max_time_s > 0:
        raise UserError(f"timer: min_sample_s and max_time_s must be > 0, got "
                        f"{min_sample_s!r}, {max_time_s!r}")


# --- several statements, interleaved -----------------------------------------------------------------
def measure_interleaved(timers: dict, n_samples: int = DEFAULT_SAMPLES, *,
                        min_sample_s: float = DEFAULT_MIN_SAMPLE_S, max_time_s: float = DEFAULT_MAX_TIME_S,
                        min_samples: int = DEFAULT_MIN_SAMPLES, retakes: int = DEFAULT_RETAKES,
                        abort_if: dict | None = None, burst: int = 1) -> dict:
    """Time several statements side by side: {key: Timer} -> {key: Measurement or the exception it raised}.

    Each timer is calibrated (and warmed up) as in ``Timer.measure``; then the samples are taken round-robin,
    one block of each timer per pass (A B C A B C ...), so every statement sees the same moments of the
    machine. Measured here (2-core VM, NumPy GRU vs LSTM train step, T=100, H=128): the GRU/LSTM ratio of
    blocks of 10 samples taken one after the other ranged 0.63-1.24 within one process; taken interleaved,
    0.817-0.833 across four processes. A shared machine's slow spells last seconds; a ratio of statements
    timed in the same spells cancels them.

    Budget: ``max_time_s`` per statement, i.e. len(timers) x max_time_s for the passes (calibration
    included), never fewer than ``min_samples`` passes. Drift (``suite.bench.drift``) is checked per
    statement; when one drifts, all are re-taken together (so the samples of every pair stay taken in the same
    moments) at most ``retakes`` times. ``abort_if``: {key: callable(per_call) -> reason or None} (see ``Timer.measure``).
    ``burst``: blocks of one timer taken in a row per pass (A A A B B B ...). Calls of microseconds (a
    streaming step) run from cache when repeated, and a pass that alternates them call by call would time
    each one cold, after the other models evicted its weights: measured here (H=128, context 16), the torch
    LSTM step took 355 and 368 us alternating call by call against 302 and 316 us in bursts of 10 (two
    processes). A burst of 10 keeps them warm and is still short beside a slow spell of seconds.
    A statement that raises is dropped from the passes and its exception returned in its place."""
    _check_budget(n_samples, min_samples, min_sample_s, max_time_s)
    if not isinstance(retakes, int) or isinstance(retakes, bool) or retakes < 0:
        raise UserError(f"timer: retakes must be an integer >= 0, got {retakes!r}")
    out: dict = {}
    calibrated: dict = {}                    # key -> (number, seconds per block, calibration seconds, load)
    clock = time.perf_counter
    for key, timer in timers.items():
        load, t0 = load_average(), clock()
        try:
            number, per_call = timer.calibrate(min_sample_s, max_time_s)
            reason = (abort_if or {}).get(key, lambda _: None)(per_call)
            if reason:
                raise MeasurementAborted(reason)
        except Exception as err:  # noqa: BLE001 -- handed back for this statement only
            out[key] = err
            continue
        calibrated[key] = (number, per_call * number, clock() - t0, load)
    if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
        raise UserError(f"timer: burst must be an integer >= 1, got {burst!r}")
    samples = _passes(timers, calibrated, list(calibrated), n_samples, min_samples, max_time_s, out, burst)
    discarded: dict = {}
    for _ in range(retakes):
        if not any(k not in out and drift_check(samples[k])["drifting"] for k in samples):
            break
        live = [k for k in samples if k not in out]          # all of them again: the pairs stay in step
        again = _passes(timers, calibrated, live, n_samples, min_samples, max_time_s, out, burst)
        for k in live:
            if k in again:
                discarded.setdefault(k, []).append(samples[k])
                samples[k] = again[k]
    for key, (number, _, calibration_s, load) in calibrated.items():
        if key in out:
            continue
        meta = {"load_before": load, "load_after": load_average(), "cpus": os.cpu_count(),
                "interleaved_with": len(calibrated) - 1}
        if discarded.get(key):
            meta["discarded"] = discarded[key]
        timer = timers[key]
        out[key] = Measurement(samples[key], number, label=timer.label, threads=timer.threads,
                               calibration_s=calibration_s, total_s=calibration_s + sum(samples[key]) * number,
                               meta=meta)
    return out


def _passes(timers: dict, calibrated: dict, keys: list, n_samples: int, min_samples: int, max_time_s: float,
            failed: dict, burst: int = 1) -> dict:
    """Round-robin blocks of the timers ``keys`` (``burst`` in a row each) until n_samples each, or the budget
    (len(keys) x max_time_s) is spent and min_samples exist; a timer that raises goes into ``failed`` and
    leaves the passes."""
    samples: dict = {k: [] for k in keys}
    live = list(keys)
    start, budget = time.perf_counter(), max_time_s * len(keys)
    while live and len(samples[live[0]]) < n_samples:
        take = min(burst, n_samples - len(samples[live[0]]))
        one_pass = take * sum(calibrated[k][1] for k in live)
        if len(samples[live[0]]) >= min_samples and time.perf_counter() - start + one_pass > budget:
            break
        for k in list(live):
            number = calibrated[k][0]
            try:
                for _ in range(take):
                    samples[k].append(timers[k].time_block(number) / number)
            except Exception as err:  # noqa: BLE001 -- this statement only
                failed[k] = err
                live.remove(k)
    return {k: v for k, v in samples.items() if k not in failed}
