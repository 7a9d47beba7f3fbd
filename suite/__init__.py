"""GRU vs LSTM vs Transformer: a comparative benchmark suite.

Entry points: ``suite.models.build_model(spec)``, ``suite.tasks.get_task(name, ...)``,
``python -m suite --help``.
"""
from suite.spec import ModelSpec  # noqa: F401

__version__ = "0.1.0"
