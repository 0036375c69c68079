"""Incremental CDR sync: only the calls not handed out before, from a plain checkpoint.

A checkpoint records the newest call start read so far (the *high-water mark*) and
the ids of the calls that started within ``overlap`` seconds before it. The next
run reads from ``high_water - overlap`` onwards (exactly, in windows) and skips those
ids. So a CDR the API lists late, up to ``overlap`` after a newer call was already
listed, is still picked up, and no CDR is handed out twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import ValidationError
from .cdrs import DEFAULT_PAGE_SIZE, DEFAULT_PREFETCH, CdrRow, check_filters
from .report import BulkError
from .windows import (
    DEFAULT_WINDOW_ROWS,
    RANGE_NAMES,
    WindowPlan,
    as_text,
    check_window_filters,
    iter_plan,
    jsonable_filters,
    moment,
    plan_windows,
)

if TYPE_CHECKING:
    from .._client import AsyncIovox

CHECKPOINT_VERSION = 1
DEFAULT_OVERLAP = 3600
"""Seconds looked back behind the high-water mark on every run."""


@dataclass(frozen=True)
class SyncCheckpoint:
    """Where a sync stands: plain data (:meth:`to_dict`) to keep wherever you like."""

    since: str
    high_water: str | None = None
    seen: tuple[str, ...] = ()
    overlap: int = DEFAULT_OVERLAP
    filters: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CHECKPOINT_VERSION,
            "since": self.since,
            "high_water": self.high_water,
            "overlap": self.overlap,
            "seen": list(self.seen),
            "filters": dict(self.filters),
            "columns": list(self.columns),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyncCheckpoint:
        if not isinstance(data, Mapping) or data.get("version") != CHECKPOINT_VERSION:
            raise ValidationError("not a sync checkpoint of this version")
        try:
            high = data["high_water"]
            checkpoint = cls(
                str(data["since"]),
                None if high is None else str(high),
                tuple(str(item) for item in data["seen"]),
                int(data["overlap"]),
                dict(data["filters"]),
                tuple(str(name) for name in data.get("columns", ())),
            )
            moment(checkpoint.since)
            if checkpoint.high_water is not None:
                moment(checkpoint.high_water)
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError(f"not a sync checkpoint: {error}") from None
        return checkpoint


class CallDataSync:
    """The new CDRs since a checkpoint; ``checkpoint`` is the next one once read through.

    ::

        sync = iovox.bulk.sync_call_data(saved)      # None the first time (give sdt)
        async for cdr in sync:
            store(cdr)
        saved = sync.checkpoint.to_dict()            # only after the loop ended
    """

    def __init__(
        self,
        client: AsyncIovox,
        checkpoint: SyncCheckpoint | Mapping[str, Any] | None,
        *,
        sdt: Any = None,
        overlap: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        **filters: Any,
    ) -> None:
        check_filters(filters, page_size, prefetch)
        check_window_filters(filters)
        for name in RANGE_NAMES:
            if name in filters:
                raise ValidationError(f"{name} is set by the sync; give sdt for the first run")
        if filters.get("order") not in (None, "cs_ASC"):
            raise ValidationError("a sync reads oldest first; leave order out")
        if isinstance(checkpoint, Mapping):
            checkpoint = SyncCheckpoint.from_dict(checkpoint)
        if checkpoint is None and sdt is not None:
            start_text(sdt)  # checked before anything is sent
        if checkpoint is None and sdt is None:
            raise ValidationError("the first sync needs sdt (where to start)")
        if checkpoint is not None and sdt is not None:
            raise ValidationError("give a checkpoint or sdt, not both")
        wanted = jsonable_filters(filters)
        if checkpoint is not None and checkpoint.filters != wanted:
            raise ValidationError(
                f"the checkpoint was made with other filters ({checkpoint.filters}); "
                "keep one checkpoint per set of filters"
            )
        overlap = checkpoint.overlap if overlap is None and checkpoint else overlap
        overlap = DEFAULT_OVERLAP if overlap is None else overlap
        if overlap < 0:
            raise ValidationError("overlap must be 0 or more seconds")
        self._client = client
        self._previous = checkpoint
        self._sdt = sdt
        self._overlap = overlap
        self._filters = filters
        self._wanted = wanted
        self._page_size = page_size
        self._prefetch = prefetch
        self._window_rows = window_rows
        self._plan: WindowPlan | None = None
        self._next: SyncCheckpoint | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV columns of these rows (kept from the first run that had rows)."""
        if self._previous is not None and self._previous.columns:
            return self._previous.columns
        if self._plan is None:
            raise RuntimeError("the sync has not started yet")
        return self._plan.columns

    @property
    def checkpoint(self) -> SyncCheckpoint:
        """The checkpoint to pass next time; only once every row was read."""
        if self._next is None:
            raise RuntimeError("read the sync to its end before taking its checkpoint")
        return self._next

    def __aiter__(self) -> AsyncIterator[CdrRow]:
        return self._rows()

    async def _rows(self) -> AsyncGenerator[CdrRow, None]:
        previous = self._previous
        since = previous.since if previous is not None else start_text(self._sdt)
        start = moment(since)
        if previous is not None and previous.high_water is not None:
            start = max(start, moment(previous.high_water) - _seconds(self._overlap))
        skip = frozenset(previous.seen) if previous is not None else frozenset()
        plan = await plan_windows(
            self._client,
            window_rows=self._window_rows,
            order="cs_ASC",
            sdt=as_text(start),
            **{k: v for k, v in self._filters.items() if k != "order"},
        )
        self._plan = plan
        marks = [moment(mark) for mark in (plan.edt, previous and previous.high_water) if mark]
        high = max(marks) if marks else None
        cut = high - _seconds(self._overlap) if high is not None else None
        # Without rows read, the ids seen before are still the ones near the mark.
        recent: list[str] = list(skip) if not plan.windows else []
        rows = iter_plan(self._client, plan, page_size=self._page_size, prefetch=self._prefetch)
        async with aclosing(rows):
            async for row in rows:
                key = str(row["id"])
                if cut is not None and moment(row["call_start"]) >= cut:
                    recent.append(key)
                if key not in skip:
                    yield row
        columns = previous.columns if previous is not None else ()
        self._next = SyncCheckpoint(
            since,
            as_text(high) if high is not None else None,
            tuple(dict.fromkeys(recent)),
            self._overlap,
            self._wanted,
            columns or (plan.columns if plan.windows else ()),
        )


def start_text(value: Any) -> str:
    """A start given as a date, a datetime or API text, as full API text."""
    if isinstance(value, dt.datetime):
        return as_text(value)
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d} 00:00:00"
    text = str(value).strip().replace("T", " ")
    if len(text) == 10:
        text += " 00:00:00"
    elif len(text) == 16:
        text += ":00"
    try:
        return as_text(moment(text))
    except BulkError:
        raise ValidationError(f"sdt must be YYYY-MM-DD[ HH:MM:SS], got {value!r}") from None


def _seconds(count: int) -> dt.timedelta:
    return dt.timedelta(seconds=count)


__all__ = ["DEFAULT_OVERLAP", "CallDataSync", "SyncCheckpoint"]
