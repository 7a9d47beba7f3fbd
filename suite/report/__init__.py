"""Statistics, result tables, claims and verdicts, figures, the report and its publication."""
