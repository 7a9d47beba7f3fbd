"""Timer fidelity: does the suite's timer agree with torch.utils.benchmark, and with itself?

``python -m suite bench fidelity`` times nn.GRU forward + backward at B=32 T=100 X=32 H=128
(the suite's reference shape for nn.GRU) three times, in this order:
    suite timer (1st)  ->  torch.utils.benchmark.Timer.blocked_autorange  ->  suite timer (2nd)
and reports
    ratio = mean(suite medians) / torch median      target 0.9 .. 1.1
    drift = |suite 1st - suite 2nd| / mean of both  target <= 5%
The same for nn.LSTM gives the GRU/LSTM time ratio (on the 2-core test machines, 1 thread: nn.GRU 34 ms vs
nn.LSTM 15 ms; on CPU torch runs LSTM as one fused oneDNN kernel, GRU step by step).
Both timers use the same thread count (torch's Timer: ``num_threads=``; it would use 1 otherwise) and run
in the same thread, under the same floating-point mode (``fp_mode``: the calling thread's FTZ/DAZ bits;
``python -m suite bench fidelity`` applies the speed workers' default policy, flush, first).
The statement is ``torch.autograd.grad(rnn(x)[0].sum(), params)``: gradients are returned, not
accumulated into .grad, so every call does identical work.
"""
from __future__ import annotations

import os

from suite.bench.fp_mode import current_mode
from suite.bench.timer import Timer, format_seconds, load_average

SHAPE = {"B": 32, "T": 100, "X": 32, "H": 128}
RATIO_TARGET = (0.9, 1.1)
DRIFT_TARGET = 0.05


def fwd_bwd_fn(arch: str, shape: dict = SHAPE):
    """A zero-argument callable: one forward + backward of nn.GRU / nn.LSTM at ``shape``."""
    import torch
    torch.manual_seed(0)
    cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[arch]
    rnn = cls(shape["X"], shape["H"], batch_first=True)
    x = torch.randn(shape["B"], shape["T"], shape["X"])                    # (B, T, X)
    params = tuple(rnn.parameters())
    return lambda: torch.autograd.grad(rnn(x)[0].sum(), params)


def time_both(arch: str, threads: int, max_time_s: float = 5.0, min_run_time: float = 1.0) -> dict:
    """Suite timer, torch Timer, suite timer again, torch Timer again: medians in seconds, ratio, the
    suite's drift, and torch's own drift (the machine's noise floor for the same time budget)."""
    import torch
    from torch.utils import benchmark
    torch.set_num_threads(threads)
    fn = fwd_bwd_fn(arch)
    first = Timer(fn, label=f"{arch} 1st", threads=threads).measure(max_time_s=max_time_s)
    ref = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads,
                          label=f"nn.{arch.upper()} fwd+bwd").blocked_autorange(min_run_time=min_run_time)
    torch.set_num_threads(threads)             # torch's Timer restores the previous count; be explicit
    second = Timer(fn, label=f"{arch} 2nd", threads=threads).measure(max_time_s=max_time_s)
    ref2 = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads,
                           label=f"nn.{arch.upper()} fwd+bwd").blocked_autorange(min_run_time=min_run_time)
    torch.set_num_threads(threads)
    mean_suite = (first.median + second.median) / 2
    return {"arch": arch, "suite_s": first.median, "suite_again_s": second.median,
            "suite_iqr_s": first.iqr, "suite_n": first.n, "suite_number": first.number,
            "suite_noisy": first.noisy, "torch_s": ref.median, "torch_iqr_s": ref.iqr,
            "torch_n": len(ref.times), "torch_again_s": ref2.median,
            "torch_drift": abs(ref.median - ref2.median) / ((ref.median + ref2.median) / 2),
            "ratio": mean_suite / ((ref.median + ref2.median) / 2),
            "drift": abs(first.median - second.median) / mean_suite}


def run_fidelity(threads: int = 1, max_time_s: float = 5.0, min_run_time: float = 1.0) -> dict:
    """The fidelity figures for nn.GRU and nn.LSTM at ``threads`` threads (see module docstring)."""
    import torch
    before, load_before = torch.get_num_threads(), load_average()
    try:
        gru = time_both("gru", threads, max_time_s, min_run_time)
        lstm = time_both("lstm", threads, max_time_s, min_run_time)
    finally:
        torch.set_num_threads(before)
    return {"threads": threads, "shape": dict(SHAPE), "torch_version": torch.__version__,
            "gru": gru, "lstm": lstm, "gru_over_lstm": gru["suite_s"] / lstm["suite_s"],
            "ratio_ok": all(RATIO_TARGET[0] <= r["ratio"] <= RATIO_TARGET[1] for r in (gru, lstm)),
            "drift_ok": all(r["drift"] <= DRIFT_TARGET for r in (gru, lstm)),
            "load_before": load_before, "load_after": load_average(), "cpus": os.cpu_count(),
            "fp_mode": current_mode()}


def format_fidelity(result: dict) -> str:
    """Human-readable lines: per arch suite vs torch medians, ratio and drift with their targets."""
    s = result["shape"]
    lines = [f"Timer fidelity: nn.GRU / nn.LSTM forward+backward at B={s['B']} T={s['T']} X={s['X']} "
             f"H={s['H']}, {result['threads']} thread(s), torch {result['torch_version']}, floating-point mode "
             f"{result.get('fp_mode', 'unknown')}"]
    for arch in ("gru", "lstm"):
        r = result[arch]
        lines.append(
            f"  nn.{arch.upper():4s} suite {format_seconds(r['suite_s'])} (again {format_seconds(r['suite_again_s'])},"
            f" n={r['suite_n']} x {r['suite_number']}) | torch.utils.benchmark {format_seconds(r['torch_s'])}"
            f" (n={r['torch_n']}) | ratio {r['ratio']:.3f} [target {RATIO_TARGET[0]}-{RATIO_TARGET[1]}]"
            f" | drift {r['drift']:.1%} [target <= {DRIFT_TARGET:.0%}]"
            + (f" (torch's own drift {r['torch_drift']:.1%})" if "torch_drift" in r else ""))
    lines.append(f"  GRU / LSTM time: {result['gru_over_lstm']:.2f}x  "
                 f"(torch fuses LSTM into one oneDNN kernel on CPU, not GRU)")
    verdict = "OK" if result["ratio_ok"] and result["drift_ok"] else "OUTSIDE TARGET"
    lines.append(f"  verdict: {verdict} (ratio_ok={result['ratio_ok']}, drift_ok={result['drift_ok']})")
    load = max((v for v in (result.get("load_before"), result.get("load_after")) if v is not None), default=None)
    if load is not None:
        busy = load > (result.get("cpus") or 1) + 0.5      # more runnable threads than cores
        lines.append(f"  load average {load:.2f} on {result.get('cpus')} CPUs"
                     + (": other processes competed for the CPU; repeat on an idle machine" if busy else ""))
    return "\n".join(lines)
