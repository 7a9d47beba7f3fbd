"""A worked plugin of the suite: Light GRU through ``suite.models.register_encoder`` (``lightgru_example.model``)
and a majority-vote task through ``suite.tasks.register_task`` (``lightgru_example.task``). Installed, the entry
points of pyproject.toml load both; without installing, list ``lightgru_example.model`` and
``lightgru_example.task`` under the config key ``plugins`` with ``src`` on PYTHONPATH."""
