"""Incremental CDR sync: only the calls not handed out before, from a plain checkpoint.

A checkpoint records the newest call start read so far (the *high-water mark*) and
the ids of the calls that started within ``overlap`` seconds before it. The next
run reads from ``high_water - overlap`` onwards (exactly, in windows) and skips those
ids. So a CDR the API lists late, up to ``overlap`` after a newer call was already
listed, is still picked up, and no CDR is handed out twice.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import ValidationError
from .cdrs import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_PREFETCH,
    CdrRow,
    batched,
    check_filters,
    export_format,
    header_text,
    row_writer,
)
from .jobstate import durable, read_json, write_json
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


# -- into a file ------------------------------------------------------------------------

STATE_KIND = "iovox-calls-sync"


@dataclass(frozen=True)
class SyncResult:
    """What one :func:`sync_to_file` run did."""

    rows: int
    checkpoint: SyncCheckpoint
    truncated: int
    """Bytes of an interrupted earlier run cut off ``path`` before appending."""


async def sync_to_file(
    client: AsyncIovox,
    path: str | os.PathLike[str],
    state: str | os.PathLike[str],
    format: str | None = None,
    *,
    sdt: Any = None,
    overlap: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    prefetch: int = DEFAULT_PREFETCH,
    window_rows: int = DEFAULT_WINDOW_ROWS,
    **filters: Any,
) -> SyncResult:
    """Append the CDRs new since the last run to ``path``; keep the checkpoint in ``state``.

    ``state`` records the checkpoint and how long ``path`` was when the run that wrote
    it ended. A run first cuts ``path`` back to that length (rows a crashed run
    appended without recording them), appends, flushes ``path`` to disk and only then
    replaces ``state`` atomically: a crash at any point loses and repeats nothing.
    """
    target, keeper = Path(path), Path(state)
    chosen = export_format(target, format)
    checkpoint, length = _load_state(keeper, chosen)
    sync = CallDataSync(
        client,
        checkpoint,
        sdt=sdt,
        overlap=overlap,
        page_size=page_size,
        prefetch=prefetch,
        window_rows=window_rows,
        **filters,
    )
    raw, size = _open_output(target, keeper, length, fresh=checkpoint is None)
    rows = 0
    with raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            writer = None
            async with aclosing(sync._rows()) as new_rows:
                async for batch in batched(new_rows):
                    if writer is None:
                        if length == 0:
                            handle.write(header_text(chosen, sync.columns))
                        writer = row_writer(chosen, handle, sync.columns)
                    writer.write_many(batch)
                    rows += len(batch)
            handle.flush()
        finally:
            handle.detach()  # the file stays open for the fsync below
        await anyio.to_thread.run_sync(durable, raw)  # an fsync: off the loop
        end = raw.tell()
    write_json(
        keeper,
        {
            "kind": STATE_KIND,
            "format": chosen,
            "file": target.name,
            "size": end,
            "checkpoint": sync.checkpoint.to_dict(),
        },
    )
    return SyncResult(rows, sync.checkpoint, size - length)


def _load_state(keeper: Path, format: str) -> tuple[SyncCheckpoint | None, int]:
    """The checkpoint and output length a sync state records (none the first time)."""
    if not keeper.exists():
        return None, 0
    saved = read_json(keeper, "sync state")
    if not isinstance(saved, dict) or saved.get("kind") != STATE_KIND:
        raise ValidationError(f"{keeper} is not a sync state")
    if saved.get("format") != format:
        raise ValidationError(f"{keeper} is for a {saved.get('format')} file, not {format}")
    return SyncCheckpoint.from_dict(saved.get("checkpoint") or {}), int(saved.get("size", 0))


def _open_output(target: Path, keeper: Path, length: int, *, fresh: bool) -> tuple[Any, int]:
    """``target`` open for appending at ``length`` (cut back to it), and its size before."""
    size = target.stat().st_size if target.exists() else 0
    if size < length:
        raise ValidationError(
            f"{target} is shorter than {keeper} says ({size} < {length} bytes): it was "
            "changed outside the sync"
        )
    if fresh and size:
        raise ValidationError(f"{target} exists but {keeper} does not: give a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = target.open("r+b" if target.exists() else "wb")
    raw.truncate(length)
    raw.seek(length)
    return raw, size


__all__ = ["DEFAULT_OVERLAP", "CallDataSync", "SyncCheckpoint", "SyncResult", "sync_to_file"]
