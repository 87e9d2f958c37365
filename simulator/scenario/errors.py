"""Errors of scenario and spec files: where (file, line, field) and why.

:class:`ScenarioError` is what every loader raises: its message names the
file (relative to the working directory when below it), the line and the
dotted field path. Inside a pydantic validator, :class:`LocatedError`
carries a field path below the model being validated; :func:`describe`
turns a :class:`pydantic.ValidationError` into that path and a one-line
message (unknown keys first, with a "did you mean" from
:func:`did_you_mean`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

__all__ = ["LocatedError", "ScenarioError", "describe", "did_you_mean"]


class ScenarioError(ValueError):
    """A scenario (or firm table) that cannot be used, with where and why.

    Parameters
    ----------
    message : str
        What is wrong, in one line.
    file : str or Path, optional
        The file the problem is in.
    line : int, optional
        1-based line number in ``file``.
    field : str, optional
        Dotted field path, e.g. ``tariffs.electricity.class_surcharge_yuan_per_kwh.D``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = _display_path(self.file) + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


def _display_path(file: str) -> str:
    """Show a path relative to the working directory when it lies below it."""
    try:
        return str(Path(file).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return file


class LocatedError(ValueError):
    """A validation error that knows its field path (converted to ScenarioError)."""

    def __init__(self, loc: tuple, message: str):
        self.loc = loc
        super().__init__(message)


def did_you_mean(word: str, candidates: list[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the candidate closest to ``word``, or ``""``."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _clean_msg(err: dict) -> str:
    """Return pydantic's message of ``err`` without its prefix, with the input if it helps."""
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] not in ("value_error", "missing", "extra_forbidden") and "input" in err:
        inp = err["input"]
        if not isinstance(inp, dict | list):
            msg = f"{msg} (got {inp!r})"
    return msg


def describe(exc: ValidationError,
             valid_keys: Callable[[tuple], list[str]]) -> tuple[tuple, str]:
    """Field path and one-line message of the first error of a ValidationError (unknown keys first).

    ``valid_keys(path)`` lists the keys allowed at a path (a scenario's:
    :func:`simulator.scenario.root.scenario_keys`), for the "did you mean" of
    an unknown key.
    """
    errors = exc.errors()
    # An unknown key first: a misspelt key also leaves its real name "missing".
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    ctx_err = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_err, LocatedError):
        return loc + ctx_err.loc, str(ctx_err)
    if err["type"] == "extra_forbidden":
        return loc, "unknown field" + did_you_mean(str(loc[-1]), valid_keys(loc[:-1]))
    if err["type"] == "missing":
        return loc, "required field is missing"
    return loc, _clean_msg(err)
