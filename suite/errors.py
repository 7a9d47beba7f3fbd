"""Errors a user can fix (the CLI prints them as one line and exits with status 2), and the one way a failure
becomes a line of a results table."""

ERROR_LINE_CHARS = 500     # the longest error text a row (or a worker's failure) keeps


class UserError(ValueError):
    """Bad input: the message names the file/flag, the key and what was expected."""


class UnknownNameError(UserError):
    """A name (architecture, model, task) that no registry holds; the message lists the valid ones."""


class WeightShapeError(UserError):
    """A weight copy with mismatched shapes; the message names the tensor and both shapes."""


def one_line_error(error: BaseException | str, limit: int = ERROR_LINE_CHARS) -> str:
    """What went wrong, in one line of at most ``limit`` characters.

    An exception reads 'TypeName: first line of its message' (the type alone when the message is empty); a
    text (an error already written out, a line of a process's stderr) reads as its first non-empty line."""
    if isinstance(error, BaseException):
        message = next((ln.strip() for ln in str(error).splitlines() if ln.strip()), "")
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    else:
        text = next((ln.strip() for ln in str(error).splitlines() if ln.strip()), "")
    return text[:limit]
