"""Per-item results of a bulk job.

Every bulk job returns a :class:`BulkReport`: one :class:`ItemResult` per input item,
in input order, each ``ok``, ``skipped``, ``failed`` or ``unknown`` (a call with side
effects whose outcome could not be established). One failed item never sinks the
batch; the report says which items to look at and why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .._errors import IovoxError

T = TypeVar("T")

Status = Literal["ok", "skipped", "failed", "unknown"]
STATUSES: tuple[Status, ...] = ("ok", "skipped", "failed", "unknown")

Progress = Callable[[int, "int | None"], object]
"""A progress callback: ``progress(done, total)``; ``total`` is ``None`` while unknown."""


class BulkError(IovoxError):
    """A bulk job could not run as a whole (e.g. the first page of a range failed)."""


class SkipItem(Exception):
    """Raised by a bulk worker to mark its item as skipped (not failed) with a reason."""

    def __init__(self, reason: str, value: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


def describe(error: BaseException) -> str:
    """A one-line reason for a failed item (the error's class and message)."""
    text = " ".join(str(error).split())
    name = type(error).__name__
    return f"{name}: {text}" if text else name


@dataclass(slots=True)
class ItemResult(Generic[T]):
    """The outcome of one item of a bulk job.

    ``value`` is set when ``status`` is ``ok`` (and sometimes ``skipped``); ``error``
    holds the exception of a ``failed`` or ``unknown`` item and ``reason`` a one-line
    explanation for anything but ``ok``.
    """

    index: int
    item: Any
    status: Status
    value: T | None = None
    error: BaseException | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def unwrap(self) -> T:
        """The value of an ``ok`` item; raises the item's error (or a BulkError) otherwise."""
        if self.status == "ok":
            return self.value  # type: ignore[return-value]
        if self.error is not None:
            raise self.error
        raise BulkError(f"item {self.index} was {self.status}: {self.reason}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of this result."""
        data: dict[str, Any] = {
            "index": self.index,
            "item": _jsonable(self.item),
            "status": self.status,
        }
        if self.value is not None:
            data["value"] = _jsonable(self.value)
        if self.reason is not None:
            data["reason"] = self.reason
        return data


_SUMMARY_REASON = 60
"""Characters of a shared reason shown in :meth:`BulkReport.summary`."""


@dataclass
class BulkReport(Generic[T]):
    """Every item's :class:`ItemResult`, in input order, and the job's timing."""

    results: list[ItemResult[T]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[ItemResult[T]]:
        return iter(self.results)

    def __getitem__(self, index: int) -> ItemResult[T]:
        return self.results[index]

    @property
    def counts(self) -> dict[str, int]:
        """How many items ended in each status (every status listed, zeros included)."""
        counter = Counter(result.status for result in self.results)
        return {status: counter.get(status, 0) for status in STATUSES}

    def with_status(self, status: Status) -> list[ItemResult[T]]:
        return [result for result in self.results if result.status == status]

    @property
    def succeeded(self) -> list[ItemResult[T]]:
        return self.with_status("ok")

    @property
    def failed(self) -> list[ItemResult[T]]:
        return self.with_status("failed")

    @property
    def skipped(self) -> list[ItemResult[T]]:
        return self.with_status("skipped")

    @property
    def unknown(self) -> list[ItemResult[T]]:
        return self.with_status("unknown")

    @property
    def all_ok(self) -> bool:
        """True when no item failed or ended unknown (skipped items are fine)."""
        return not any(result.status in ("failed", "unknown") for result in self.results)

    def values(self) -> list[T]:
        """The values of the ``ok`` items, in input order."""
        return [result.value for result in self.results if result.status == "ok"]  # type: ignore[misc]

    def finish(self) -> None:
        """Record the elapsed time (called by the job when it ends)."""
        self.elapsed = time.perf_counter() - self.started

    def summary(self) -> str:
        """One line: counts per status and the time; skipped items name their reason when
        all share one (failures are listed one by one by whoever prints the report)."""
        parts = []
        for status, count in self.counts.items():
            if not count:
                continue
            reasons = {result.reason for result in self.results if result.status == status}
            reason = reasons.pop() if status == "skipped" and len(reasons) == 1 else None
            if reason:
                cut = reason if len(reason) <= _SUMMARY_REASON else reason[: _SUMMARY_REASON - 1]
                parts.append(f"{count} {status} ({cut}{'' if cut == reason else '…'})")
            else:
                parts.append(f"{count} {status}")
        noun = "item" if len(self) == 1 else "items"
        return f"{len(self)} {noun}: {', '.join(parts) or 'none'} in {self.elapsed:.2f}s"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: counts, elapsed seconds, and every item that was not ok."""
        return {
            "counts": self.counts,
            "elapsed": round(self.elapsed, 3),
            "problems": [result.to_dict() for result in self.results if not result.ok],
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict())
    return str(value)


__all__ = [
    "BulkError",
    "BulkReport",
    "ItemResult",
    "Progress",
    "SkipItem",
    "Status",
    "describe",
]
