"""What a run's validation curve says about its training: its state (not started, plateaued, still improving)
and the updates it took to reach the task's target. One implementation of each rule; the accuracy unit
(``suite.run.units_accuracy``) writes them as rows, the report (``suite.report.time_to_target``) and the
claims' under-trained guard (``suite.report.claims_engine``) read those rows and the group rule below.

Normalised units. A validation curve is the list of evaluations (u_k, m_k): updates so far and the validation
headline metric (``suite.run.training``: every ``training.eval_every`` updates and after the last one). With
m_0 the task's naive predictor (``naive_outputs``: predict-1 on adding, chance on copy, the majority class on
digits, persistence or seasonal-naive on co2, per-key frequency on chorales, the unigram on folk-lm) scored on
the validation split, each point in normalised units is
    higher-is-better metric (accuracy):          s = (m - m_0) / (1 - m_0)
    lower-is-better metric (MSE, NLL, bits):     s = 1 - m / m_0
so s = 0 at the naive predictor and s = 1 at a perfect score. For an MSE against the mean predictor (adding) s
is the explained-variance fraction R²; against persistence (co2) the MSE skill score; for an NLL or bits per
character (chorales, folk-lm) the fraction of the naive predictor's nats or bits removed (it stays below 1: the
data's own entropy remains). s is undefined (NaN) when m_0 leaves no room (m_0 >= 1 for accuracy, m_0 <= 0 for
a loss). The validation split fixes m_0, so neither the state nor the updates to target read the test split.

State of one run. Let U be the updates of its last evaluation; the curve starts at (0, 0) by convention (an
untrained model is taken to be at the naive predictor, which also covers a curve with no point in its first
half). Then
    best = max_k s_k                                      over the whole run
    gain = max_{u_k > U/2} s_k  -  max_{u_k <= U/2} s_k     the best of the last half over the best before it
    'not started'      best < NOT_STARTED_BELOW (0.05): the run never left the baseline by 5 normalised points
    'plateaued'        gain < PLATEAU_GAIN (0.01, one normalised point): the last half of the budget added less
                       than a point to the best it had reached (a negative gain, the best reached in the first
                       half, also plateaued); or best > 1 - PLATEAU_GAIN: no room is left for another point (a run
                       that reached a perfect score in its last half has nothing more to gain)
    'still improving'  otherwise
    'not judged'       s undefined (above)
Recurrent models stall at the baseline before they learn (the LSTM on adding sat at s ~ 0 for 300-800 updates,
then rose to s ~ 0.94 within ~100): a run that stops in the stall is 'not started', one that took off in the
last half of its budget is 'still improving', and only a run whose last half added less than a point is
'plateaued'. The thresholds are the ones stated; of the exploration's curves (learning-rate grid on tuning seeds)
and the main job's, the half rule alone misjudged one kind: the Transformer on copy reaches accuracy 1.0 at
~200 of 400 updates, so its last half "gained" 0.3 over the first and read 'still improving' at a perfect score;
the ceiling clause above is for it. Near s = 1 a loss can still fall by a large factor (adding's MSE from 1e-3 to
1e-4 is s 0.994 -> 0.9994): in normalised units that is less than a point, and the state calls it plateaued.

A (model, task, view) over its evaluation seeds (``group_state``): plateaued when every seed is plateaued, else
the counts of the other states ("not started in 1 of 5 seeds, still improving in 3 of 5").

Updates to target. The task's target (``TaskData.target``: its 'solved' threshold where it has one, a stated
level below every architecture's plateau elsewhere) is met at the first evaluation whose metric is at or past it
(m <= target for a lower-is-better metric, m >= target otherwise): updates to target = that evaluation's u_k.
A run that never meets it is censored at U (``reached`` False): it tells only that its time to target is longer
than U, which is what the Kaplan-Meier summary of the report uses (``suite.report.time_to_target``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

NOT_STARTED_BELOW = 0.05     # best normalised score under this: still at the baseline
PLATEAU_GAIN = 0.01          # last half's best over the first half's best under this: plateaued
NOT_STARTED, PLATEAUED, IMPROVING, NOT_JUDGED = "not started", "plateaued", "still improving", "not judged"
STATES = (NOT_STARTED, IMPROVING, PLATEAUED, NOT_JUDGED)


def normalised(metric: float, baseline: float, higher_is_better: bool) -> float:
    """s of one metric value against the naive predictor's ``baseline`` m_0 (module docstring); NaN when m_0
    leaves no room or a value is not finite."""
    if not (math.isfinite(metric) and math.isfinite(baseline)):
        return math.nan
    if higher_is_better:
        return (metric - baseline) / (1.0 - baseline) if baseline < 1.0 else math.nan
    return 1.0 - metric / baseline if baseline > 0.0 else math.nan


@dataclass(frozen=True)
class RunState:
    """The state of one run's validation curve: the rule's two numbers and its word."""
    state: str
    best: float                 # best normalised score over the run
    gain_last_half: float       # best of the last half minus the best of the first half (the (0, 0) start included)
    last_updates: int           # U, the updates of the last evaluation


def run_state(updates: list[int], scores: list[float]) -> RunState:
    """The state of a curve given as updates u_k and normalised scores s_k (module docstring)."""
    points = [(int(u), float(s)) for u, s in zip(updates, scores)]
    if not points or any(not math.isfinite(s) for _, s in points):
        return RunState(NOT_JUDGED, math.nan, math.nan, points[-1][0] if points else 0)
    last = max(u for u, _ in points)
    first_half = [0.0] + [s for u, s in points if 2 * u <= last]
    last_half = [s for u, s in points if 2 * u > last]
    best = max(s for _, s in points)
    gain = max(last_half) - max(first_half) if last_half else 0.0
    if best < NOT_STARTED_BELOW:
        state = NOT_STARTED
    elif gain < PLATEAU_GAIN or best > 1.0 - PLATEAU_GAIN:
        state = PLATEAUED
    else:
        state = IMPROVING
    return RunState(state, best, gain, last)


def validation_baseline(task, data) -> float:
    """m_0: the task's naive predictor (``task.naive_outputs``) scored on the validation split; a task without
    one (a plugin's ``register_task`` need not write it) is normalised by its stated ``data.baseline``."""
    naive = getattr(task, "naive_outputs", None)
    if naive is None:
        return float(data.baseline)
    return float(task.metrics(naive(data, data.val), data.val.y)[data.metric])


def meets(metric: float, target: float, higher_is_better: bool) -> bool:
    """The metric is at or past the target in its good direction."""
    return math.isfinite(metric) and (metric >= target if higher_is_better else metric <= target)


def updates_to_target(updates: list[int], metrics: list[float], target: float | None,
                      higher_is_better: bool) -> tuple[float, bool]:
    """(updates to target, reached): the u_k of the first evaluation that meets ``target``, else (NaN, False),
    the run censored at its last evaluation. (NaN, False) too when the task has no target."""
    if target is None or not math.isfinite(target):
        return math.nan, False
    for u, m in zip(updates, metrics):
        if meets(float(m), target, higher_is_better):
            return float(u), True
    return math.nan, False


def group_state(states: list[str]) -> tuple[bool, str]:
    """(plateaued, text) of a (model, task, view) over its seeds: plateaued when every seed is (and there is
    one), else the counts of the other states, e.g. 'not started in 1 of 5 seeds, still improving in 3 of 5'."""
    n = len(states)
    if n and all(s == PLATEAUED for s in states):
        return True, f"plateaued in {n} of {n} seeds"
    counts = [(s, states.count(s)) for s in STATES if s != PLATEAUED and states.count(s)]
    if not counts:
        return False, "no seeds"
    head, *rest = counts
    return False, ", ".join([f"{head[0]} in {head[1]} of {n} seeds"] + [f"{s} in {k} of {n}" for s, k in rest])


def state_rule() -> str:
    """The state rule in one sentence, from the constants (the report and the claims' rule quote it)."""
    return (f"validation curve in normalised units s (0 = the naive predictor, 1 = perfect); not started when the "
            f"best s < {NOT_STARTED_BELOW:g}, plateaued when the best s of the last half of the budget exceeds the "
            f"best s before it by less than {PLATEAU_GAIN:g} or the best s exceeds {1 - PLATEAU_GAIN:g}, else still "
            f"improving; a model is plateaued on a task when every seed is")
