"""Parameter formulas and the matched-budget sizing helper."""
import pytest

from suite.errors import UserError
from suite.models.params import formula_params, width_for_budget
from suite.spec import ModelSpec


@pytest.mark.parametrize("arch", ["gru", "lstm", "transformer"])
@pytest.mark.parametrize("budget", [5_000, 20_000, 100_000])
def test_width_for_budget_is_the_closest_within_ten_percent(arch, budget):
    spec = ModelSpec(arch, "torch", 88, 1, 88, output="sequence", head="multilabel")
    width, achieved = width_for_budget(spec, budget)
    assert achieved == formula_params(spec.with_(hidden=width))
    assert achieved <= budget * 1.10
    for h in range(1, width + 60):  # no admissible width is closer
        try:
            n = formula_params(spec.with_(hidden=h))
        except UserError:
            continue
        if n <= budget * 1.10:
            assert abs(n - budget) >= abs(achieved - budget)


def test_chung_2014_budget_gives_gru_wider_than_lstm():
    spec = ModelSpec("gru", "torch", 88, 1, 88, output="sequence", head="multilabel")
    gru, _ = width_for_budget(spec, 20_000)
    lstm, _ = width_for_budget(spec.with_(arch="lstm"), 20_000)
    assert gru > lstm


def test_transformer_width_respects_heads():
    spec = ModelSpec("transformer", "torch", 32, 8, 1, num_heads=4)
    width, _ = width_for_budget(spec, 30_000)
    assert width % 4 == 0


def test_impossible_budget():
    with pytest.raises(UserError, match="no width of transformer fits a budget of 10"):
        width_for_budget(ModelSpec("transformer", "torch", 88, 4, 88), 10)


def test_formula_by_hand():
    # GRU X=2 H=3 O=1, two biases: 3*3*(2+3) + 2*9 + 3*1 + 1 = 45 + 18 + 4
    assert formula_params(ModelSpec("gru", "torch", 2, 3, 1)) == 67
    # Keras LSTM, one bias: 4*3*(2+3) + 12 + 4
    assert formula_params(ModelSpec("lstm", "keras", 2, 3, 1)) == 76
