"""GRU vs LSTM vs Transformer: a comparative benchmark suite.

Entry points: ``suite.models.build_model(spec)``, ``suite.tasks.get_task(name, ...)``,
``python -m suite --help``. Your own models and tasks: ``suite.models.register_encoder`` / ``register_model`` and
``suite.tasks.register_task`` (docs/plugins-model.md, docs/plugins-task.md).
"""
from suite.spec import ModelSpec  # noqa: F401

__version__ = "0.1.0"
