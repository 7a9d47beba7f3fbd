"""The results store, the run directory and the captured environment."""
