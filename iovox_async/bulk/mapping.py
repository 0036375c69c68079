"""A bounded concurrent map with per-item results: the engine under every bulk job."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, TypeVar

import anyio

from .._errors import OutcomeUnknownError, ValidationError
from .report import BulkReport, ItemResult, Progress, SkipItem, describe

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 16


async def run_item(func: Callable[[T], Awaitable[R]], index: int, item: T) -> ItemResult[R]:
    """Run ``func(item)`` and turn its outcome into an :class:`ItemResult`.

    Exceptions become ``failed`` items (``unknown`` for :class:`OutcomeUnknownError`,
    ``skipped`` for :class:`SkipItem`); cancellation and other ``BaseException``\\ s
    propagate, so cancelling the job still cancels it.
    """
    try:
        value = await func(item)
    except SkipItem as skip:
        return ItemResult(index, item, "skipped", value=skip.value, reason=skip.reason)
    except OutcomeUnknownError as error:
        return ItemResult(index, item, "unknown", error=error, reason=describe(error))
    except Exception as error:
        return ItemResult(index, item, "failed", error=error, reason=describe(error))
    return ItemResult(index, item, "ok", value=value)


def indexed_map(
    func: Callable[[int, T], R], items: Iterable[T] | AsyncIterable[T]
) -> Iterable[R] | AsyncIterable[R]:
    """``func(index, item)`` for each item, lazily, from a plain or an async iterable.

    An async source is closed when the result is closed or exhausted.
    """
    if isinstance(items, AsyncIterable):
        return _aindexed_map(func, items)
    return (func(index, item) for index, item in enumerate(items))


async def _aindexed_map(
    func: Callable[[int, T], R], items: AsyncIterable[T]
) -> AsyncGenerator[R, None]:
    index = 0
    iterator = aiter(items)
    try:
        async for item in iterator:
            yield func(index, item)
            index += 1
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


class _Feed:
    """Hands out ``(index, item)`` pairs to workers, from a list or an async iterator."""

    def __init__(self, items: Iterable[Any] | AsyncIterable[Any]) -> None:
        self._lock = anyio.Lock()
        self._next = 0
        self._async: AsyncIterator[Any] | None = None
        self._list: list[Any] | None = None
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
            self.total: int | None = None
        else:
            self._list = list(items)
            self.total = len(self._list)

    async def take(self) -> tuple[int, Any] | None:
        index = self._next
        if self._list is not None:
            if index >= len(self._list):
                return None
            self._next += 1
            return index, self._list[index]
        assert self._async is not None
        async with self._lock:  # one reader at a time; the source may be a generator
            index = self._next
            try:
                item = await anext(self._async)
            except StopAsyncIteration:
                return None
            self._next += 1
            return index, item

    async def aclose(self) -> None:
        close = getattr(self._async, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()


async def bulk_map(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
) -> BulkReport[R]:
    """The engine of :meth:`Bulk.map` (documented there)."""
    check_concurrency(concurrency)
    feed = _Feed(items)
    results: list[ItemResult[R]] = []
    report: BulkReport[R] = BulkReport()
    done = 0
    broken: list[Exception] = []  # the source or a progress callback failed

    async def worker(scope: anyio.CancelScope) -> None:
        nonlocal done
        try:
            while (taken := await feed.take()) is not None:
                results.append(await run_item(func, *taken))
                done += 1
                if progress is not None:
                    progress(done, feed.total)
        except Exception as error:  # raised as itself below, not in an exception group
            broken.append(error)
            scope.cancel()

    if progress is not None:
        progress(0, feed.total)
    workers = concurrency if feed.total is None else min(concurrency, feed.total)
    try:
        async with anyio.create_task_group() as group:
            for _ in range(workers):
                group.start_soon(worker, group.cancel_scope)
    finally:
        await feed.aclose()
    if broken:
        raise broken[0]
    results.sort(key=lambda result: result.index)
    report.results = results
    report.finish()
    return report


def check_concurrency(value: Any) -> int:
    """Validate a ``concurrency`` argument."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"concurrency must be a positive integer, got {value!r}")
    return value


__all__ = ["DEFAULT_CONCURRENCY", "bulk_map", "check_concurrency", "indexed_map", "run_item"]
