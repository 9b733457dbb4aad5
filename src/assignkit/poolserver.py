"""The process the grading pool's workers are forked from: multiprocessing's forkserver, started as early as
possible. It imports the grader and the executor's preload (the fork executor's: the warm stack) once, while the
command is still reading the course and the submissions, so every worker forked from it starts warm."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import sys
from multiprocessing.context import ForkServerContext

TETHER = "assignkit.forkserver_tether"
GRADER = "assignkit.grade"
WARM_STACK = "assignkit.warm_stack"


def context(preload: tuple[str, ...]) -> ForkServerContext:
    """The pool's multiprocessing context, its forkserver running (started now, importing the grader and
    `preload`, unless this process already started it: a forkserver keeps what it imported when it started)."""
    server = multiprocessing.get_context("forkserver")
    server.set_forkserver_preload([TETHER, GRADER, *preload])
    multiprocessing.forkserver.ensure_running()
    return server


def start_early(executor: str | None) -> None:
    """For the command line, before it imports the grader itself: start the forkserver for the executor asked
    for (fork, the default, on Linux: warm), so the two imports run at once."""
    context((WARM_STACK,) if executor != "kernel" and sys.platform == "linux" else ())


def die_with_parent() -> None:
    """Have this process (the forkserver, a worker) killed when its parent ends, however it ends, so nothing of a
    pool outlives its command (Linux's PR_SET_PDEATHSIG; elsewhere nothing)."""
    if sys.platform == "linux":
        from assignkit import jail

        jail.die_with_parent()
