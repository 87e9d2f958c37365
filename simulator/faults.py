"""Fail points: named places where a test can make the process die or be interrupted.

Crash safety is a claim about what is on disk after a process dies at *any*
moment. The fault-injection tests (``tests/test_faults.py``) check it at the
moments that matter by naming them here and setting an environment variable
for the process under test::

    MUJUN_FAILPOINTS="experiment.record=kill"           # SIGKILL at that point
    MUJUN_FAILPOINTS="run.start@s00002-r00=kill"       # only in that run
    MUJUN_FAILPOINTS="figures.drawn=interrupt"          # as if Ctrl-C were pressed

Actions: ``kill`` (SIGKILL to this process, as the out-of-memory killer
sends), ``interrupt`` (raise KeyboardInterrupt, what SIGINT does in Python).
Without the variable, :func:`point` is one dictionary lookup and does nothing.

The points, in the order a command meets them:

``experiment.record``
    an experiment directory's lock is held, its record not yet written.
``experiment.runs``
    the record is written, ``runs/`` not yet made.
``run.start@<run id>``
    a worker starts a run (in the worker's process).
``run.write@<run id>``
    a finished run is half written into its temporary directory.
``table.write@<file name>``
    a top-level table (``outputs.csv``, ``sobol.csv``, ...) is half written.
``figures.drawn``
    the first figure of a run or experiment is written, the others not yet.
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV", "point"]

#: The environment variable that arms fail points (inherited by worker processes).
ENV = "MUJUN_FAILPOINTS"


def _armed() -> dict[str, str]:
    text = os.environ.get(ENV, "")
    armed = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, action = item.partition("=")
        armed[name.strip()] = action.strip() or "kill"
    return armed


def point(name: str, qualifier: str | None = None) -> None:
    """Act here if ``name`` (or ``name@qualifier``) is armed in :data:`ENV`; else nothing."""
    if ENV not in os.environ:
        return
    armed = _armed()
    action = armed.get(f"{name}@{qualifier}") if qualifier is not None else None
    action = action or armed.get(name)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "interrupt":
        raise KeyboardInterrupt
    elif action is not None:
        raise ValueError(f"{ENV}: unknown action {action!r} for {name!r} (kill or interrupt)")
