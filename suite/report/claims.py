"""The claims table: each piece of folklore, declared once; its verdict, evidence and rule text come from the
engine (``suite.report.claims_engine``, which says what a declaration holds and how to add one).
"""
from __future__ import annotations

import pandas as pd

from suite.report.claims_engine import (AGAINST_EACH, AT_EACH_T, A_BETTER, BEST_RECURRENT, COMPARABLE, OVER_RUNTIMES,
                                        OVER_T, PER_SWEEP_POINT, PER_TASK_AND_FRAMEWORK, AgainstEach, AtLongest,
                                        Claim, Context, Crossover, CrossoverIn, Everywhere, FastestGrowth,
                                        ForgetBiasArms, GrowthExponent, MarksAcross, MarksVersus, ParameterCount,
                                        ReachesSooner, SeedCells, SeedComparison, SpeedRatio, ThreadScaling,
                                        TimeToTarget, verdict_frame)

CLAIMS = (
    Claim("gru-fewer-params", "GRU has fewer parameters than LSTM",
          ParameterCount(a="gru", b="lstm"),
          Everywhere(good="fewer", holds="holds (3 gate blocks vs 4: 3/4 at equal width)",
                     otherwise="does not hold everywhere"), figure="params", table="params"),
    Claim("gru-trains-faster", "GRU trains faster than LSTM",
          SpeedRatio(OVER_T, metric="train_step_ms", numerator="gru", denominator="lstm",
                     note="this is the cost per update; the time to reach a task's target is the next claim's"),
          MarksAcross(good="faster"), figure="train_step_vs_T", table="speed"),
    Claim("gru-reaches-target-sooner", "GRU trains faster than LSTM, read as time to target",
          TimeToTarget(a="gru", b="lstm",
                       per_update=SpeedRatio(OVER_T, metric="train_step_ms", numerator="gru", denominator="lstm")),
          ReachesSooner(), figure="curves_adding_updates", table="time_to_target"),
    Claim("gru-comparable-accuracy", "GRU reaches accuracy comparable to LSTM",
          SeedComparison(PER_TASK_AND_FRAMEWORK, supports=COMPARABLE, a="gru", b="lstm"),
          SeedCells(), figure="gru_vs_lstm", table="gru_vs_lstm"),
    Claim("forget-bias-closes-gap", "LSTM forget-gate bias 1 closes the gap to the GRU (Jozefowicz et al. 2015)",
          ForgetBiasArms(), SeedCells(), figure="forget_bias_arms", table="forget_bias_arms"),
    Claim("transformer-long-sequences", "Transformer trains faster on long sequences",
          Crossover(note="CPU, one process per framework; the parallel advantage is a GPU argument"),
          CrossoverIn(), figure="transformer_crossover", table="transformer_crossover"),
    Claim("transformer-long-range-memory", "Transformer is better at long-range memory",
          SeedComparison(BEST_RECURRENT, supports=A_BETTER, a="transformer", tasks=("copy", "adding")),
          SeedCells(), figure="accuracy_copy", table="accuracy"),
    Claim("gru-streaming", "GRU is cheaper per step for streaming / edge",
          SpeedRatio(AGAINST_EACH, metric="step_latency_us", numerator="gru", denominator=None,
                     note="state per layer: GRU H, LSTM 2H, Transformer grows with context (K,V per token)"),
          AgainstEach(good="faster"), figure="streaming_latency", table="speed"),
    Claim("transformer-parallelises", "Transformer parallelises across CPU cores (recurrent models do not)",
          ThreadScaling(), MarksAcross(good="more"), figure="thread_scaling", table="thread_scaling"),
    Claim("gru-edge", "GRU suits edge devices (ONNX Runtime / LiteRT)",
          SpeedRatio(OVER_RUNTIMES, metric="step_latency_us", kind="edge", numerator="gru", denominator=None),
          MarksVersus(good="faster"), figure="edge_latency", table="edge"),
    Claim("transformer-long-range-recall", "Transformer is better at long-range recall (mqar, long copy)",
          SeedComparison(PER_SWEEP_POINT, supports=A_BETTER, a="transformer"),
          SeedCells(), figure="long_context_accuracy", table="long_context_accuracy"),
    Claim("gru-sequential-slow", "GRU is sequential, so slow (minGRU's parallel scan fixes it)",
          SpeedRatio(AT_EACH_T, metric="train_step_ms", numerator="mingru", denominator="gru", beside="transformer"),
          AtLongest(), figure="long_context_train_step", table="long_context_speed"),
    Claim("transformer-long-context-memory", "Long context costs the Transformer memory",
          GrowthExponent(metric="train_step_peak_mb", kind="memory", arch="transformer", super_linear_above=1.2),
          FastestGrowth(), figure="long_context_memory", table="long_context_memory"),
)
LONG_CONTEXT = ("transformer-long-range-recall", "gru-sequential-slow", "transformer-long-context-memory")


def claims_table(frame: pd.DataFrame, T: int | None, H: int | None, samples: dict | None = None) -> pd.DataFrame:
    """One row per claim (the report and ``suite compare`` read the same set): id, claim, word, cells, verdict,
    headline, evidence, rule, figure, table (``suite.report.claims_engine``). T, H: the speed sweep's base shape;
    ``samples``: the run's raw speed samples (``suite.results.samples.load_samples``) for the CIs."""
    return verdict_frame(CLAIMS, Context(frame, T, H, samples))


def long_context_claims(frame: pd.DataFrame, samples: dict | None = None) -> list[dict]:
    """The long-context claims' rows of ``claims_table`` (they read no base shape)."""
    return verdict_frame([c for c in CLAIMS if c.id in LONG_CONTEXT], Context(frame, samples=samples)) \
        .to_dict("records")
