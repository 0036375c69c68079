"""Work done in steps: a generator that pauses (``yield``) between chunks of work.

A big page is decoded this way so that its caller decides where the work runs: all at
once on this thread (:func:`run_steps`), or on the event loop with a turn of the loop
between steps (:func:`run_steps_on_loop`), which no worker thread can give, since a
decode holds the GIL.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

from anyio.lowlevel import checkpoint

T = TypeVar("T")

Steps = Generator[None, None, T]
"""Work that pauses between chunks and returns a ``T``."""


def run_steps(steps: Steps[T]) -> T:
    """Run ``steps`` to the end on this thread; its return value."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_steps_on_loop(steps: Steps[T]) -> T:
    """Run ``steps`` on the event loop, letting it run other tasks between steps."""
    try:
        while True:
            next(steps)
            await checkpoint()
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
