"""Errors a user can fix. The CLI prints them as one line and exits with status 2."""


class UserError(ValueError):
    """Bad input: the message names the file/flag, the key and what was expected."""


class WeightShapeError(UserError):
    """A weight copy with mismatched shapes; the message names the tensor and both shapes."""
