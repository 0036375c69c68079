"""Exact CDR ranges on a live account: a range cut into time windows, each read until stable.

A *plan* pins the range when a job starts: its first and last call start are read
(two one-row requests), and it is cut in halves until every window holds at most
``window_rows`` calls (one one-row request per cut: ``total_results`` is the count).
The plan is plain data (:meth:`WindowPlan.to_dict`), so a job can be saved, resumed
or handed out to other processes window by window.

A window is read page by page (``prefetch`` pages fetched ahead by the shared paging
engine, :func:`iovox_async._paging.pages_ahead`), yielding every
row whose id it has not yielded yet. CDRs are never deleted, so a call that arrives
only pushes the rows after it one place on: offset paging can then show a row twice
(skipped by id), and can miss one only when a page was fetched *before* an arrival
that the page before it saw. Each page's ``total_results`` tells: a page whose total
is below its predecessor's is fetched again, and the reading goes on past the
planned last page while the totals say rows were pushed there. If the window still
yielded fewer ids than it held at its first page (the API reordered ties between
pages), it is read once more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.lowlevel import checkpoint

from .._errors import ValidationError
from .._paging import page_count, page_total, pages_ahead
from .cdrs import CDR_FIELDS, TYPED_ROWS, CdrRow, PageRoute, check_filters, fetch_page, page_rows
from .report import BulkError, Progress

if TYPE_CHECKING:
    from .._client import AsyncIovox

DEFAULT_WINDOW_ROWS = 50_000
"""Calls per window at most (a single second holding more stays one window)."""
MAX_PASSES = 8
"""Passes over one window before it is given up as never settling."""
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ORDERS = ("cs_ASC", "cs_DESC")
RANGE_NAMES = ("sdt", "edt", "dconst")


def moment(value: Any) -> dt.datetime:
    """A call start (API text or a ``datetime``) as a naive datetime to the second."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return dt.datetime.strptime(value.strip().replace("T", " ")[:19], TIME_FORMAT)
        except ValueError:
            pass
    raise BulkError(f"a CDR has no readable call_start: {value!r}")


def as_text(moment_: dt.datetime) -> str:
    return moment_.strftime(TIME_FORMAT)


@dataclass(frozen=True, slots=True)
class Window:
    """Calls with ``sdt <= call_start <= edt`` (both API texts); ``expected`` is the
    count when the window was planned."""

    index: int
    sdt: str
    edt: str
    expected: int

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sdt": self.sdt, "edt": self.edt, "expected": self.expected}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Window:
        return cls(int(data["index"]), str(data["sdt"]), str(data["edt"]), int(data["expected"]))


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """A pinned range cut into windows, in the order their rows are yielded.

    ``filters`` are the other getCallData filters every window request carries,
    ``columns`` the CSV columns (the fields of the range's first row).
    """

    filters: dict[str, Any]
    order: str
    columns: tuple[str, ...]
    windows: tuple[Window, ...]

    @property
    def total(self) -> int:
        """Calls in the range when it was planned."""
        return sum(window.expected for window in self.windows)

    @property
    def sdt(self) -> str | None:
        """The earliest call start of the pinned range (``None`` when it is empty)."""
        return min((w.sdt for w in self.windows), default=None)

    @property
    def edt(self) -> str | None:
        """The latest call start of the pinned range (``None`` when it is empty)."""
        return max((w.edt for w in self.windows), default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; :meth:`from_dict` reads it back."""
        return {
            "filters": dict(self.filters),
            "order": self.order,
            "columns": list(self.columns),
            "windows": [window.to_dict() for window in self.windows],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowPlan:
        try:
            return cls(
                dict(data["filters"]),
                str(data["order"]),
                tuple(str(name) for name in data["columns"]),
                tuple(Window.from_dict(window) for window in data["windows"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValidationError(f"not a window plan: {error}") from None


def jsonable_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in filters.items():
        if isinstance(value, (dt.datetime, dt.date)):
            value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
        elif isinstance(value, (list, tuple)):
            value = [str(item) for item in value]
        elif not isinstance(value, (str, int, float, bool)) and value is not None:
            value = str(value)
        out[name] = value
    return out


def check_window_filters(filters: Mapping[str, Any]) -> str:
    """Reject what windowing cannot honour; return the call-start order to use."""
    order = filters.get("order") or "cs_ASC"
    if order not in ORDERS:
        raise ValidationError(
            f"order must be cs_ASC or cs_DESC for a windowed range (got {order!r}); "
            "sort other fields after reading"
        )
    fields = filters.get("req_fields")
    if fields:
        given = {part.strip() for part in str(fields).split(",")}
        missing = [name for name in ("id", "cs") if name not in given]
        if missing:
            raise ValidationError(
                f"req_fields must include {' and '.join(missing)}: rows are told apart by id "
                "and windowed by call start"
            )
    return str(order)


def columns_of(row: Mapping[str, Any]) -> tuple[str, ...]:
    """CSV columns for rows like ``row``: spec order first, then anything else."""
    known = [name for name in CDR_FIELDS if name in row]
    return tuple(known + [name for name in row if name not in CDR_FIELDS])


async def plan_windows(
    client: AsyncIovox, *, window_rows: int = DEFAULT_WINDOW_ROWS, **filters: Any
) -> WindowPlan:
    """Pin the range ``filters`` select and cut it into windows of at most
    ``window_rows`` calls (see the module notes)."""
    if window_rows < 1:
        raise ValidationError("window_rows must be at least 1")
    order = check_window_filters(filters)
    rest = {k: v for k, v in filters.items() if k not in RANGE_NAMES and k != "order"}
    bounds = {k: v for k, v in filters.items() if k in RANGE_NAMES}
    first = await fetch_page(client, page=1, limit=1, order="cs_ASC", **bounds, **rest)
    total = page_total(first) or 0
    rows = page_rows(first)
    if not total or not rows:
        return WindowPlan(jsonable_filters(rest), order, CDR_FIELDS, ())
    last = await fetch_page(client, page=1, limit=1, order="cs_DESC", **bounds, **rest)
    last_rows = page_rows(last) or rows
    low, high = moment(rows[0]["call_start"]), moment(last_rows[0]["call_start"])
    high = max(low, high)

    async def count(start: dt.datetime, end: dt.datetime) -> int:
        page = await fetch_page(
            client, page=1, limit=1, sdt=as_text(start), edt=as_text(end), **rest
        )
        return page_total(page) or 0

    pieces = await _split(count, low, high, total, window_rows)
    if order == "cs_DESC":
        pieces.reverse()
    windows = tuple(
        Window(index, as_text(start), as_text(end), expected)
        for index, (start, end, expected) in enumerate(pieces)
    )
    return WindowPlan(jsonable_filters(rest), order, columns_of(rows[0]), windows)


Piece = tuple[dt.datetime, dt.datetime, int]


async def _split(
    count: Callable[[dt.datetime, dt.datetime], Awaitable[int]],
    low: dt.datetime,
    high: dt.datetime,
    total: int,
    window_rows: int,
) -> list[Piece]:
    """Halve ``[low, high]`` until each piece holds at most ``window_rows`` calls."""
    if total <= window_rows or high - low < dt.timedelta(seconds=1):
        return [(low, high, total)]
    middle = low + dt.timedelta(seconds=(high - low) // dt.timedelta(seconds=1) // 2)
    left = await count(low, middle)
    right = max(total - left, 0)  # an estimate; only the split depends on it
    halves: list[list[Piece]] = [[], []]

    async def side(slot: int, start: dt.datetime, end: dt.datetime, rows: int) -> None:
        halves[slot] = await _split(count, start, end, rows, window_rows)

    await run_together(
        [
            lambda: side(0, low, middle, left),
            lambda: side(1, middle + dt.timedelta(seconds=1), high, right),
        ]
    )
    return halves[0] + halves[1]


async def run_together(jobs: Sequence[Callable[[], Awaitable[object]]]) -> None:
    """Run the jobs concurrently; the first failure cancels the others and is raised
    as itself (not inside an exception group)."""
    broken: list[Exception] = []

    async def guarded(job: Callable[[], Awaitable[object]], scope: anyio.CancelScope) -> None:
        try:
            await job()
        except Exception as error:
            broken.append(error)
            scope.cancel()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(guarded, job, group.cancel_scope)
    if broken:
        raise broken[0]


# -- reading ----------------------------------------------------------------------------


ROWS_PER_TURN = 1000
"""Rows handed out between two turns of the event loop: a page's rows are yielded from
memory, so without a turn a 5,000-row page would hold the loop until it was drained."""


async def window_batches(
    client: AsyncIovox,
    plan: WindowPlan,
    window: Window,
    *,
    page_size: int,
    prefetch: int,
    route: PageRoute = TYPED_ROWS,
) -> AsyncGenerator[list[Any], None]:
    """The rows of ``window`` page by page, each row exactly once (pages that bring
    nothing new are skipped), read again until a pass is trusted. ``route`` fetches
    and reads the pages: typed rows by default."""
    yielded: set[str] = set()
    rows_of, ids_of = route.rows, route.ids

    async def fetch(number: int) -> Any:
        return await route.fetch(
            client,
            page=number,
            limit=page_size,
            order=plan.order,
            sdt=window.sdt,
            edt=window.edt,
            **plan.filters,
        )

    def fresh(page: Any) -> list[Any]:
        rows = rows_of(page)
        # Fresh copies of the ids (their repr, so any value will do): holding the rows'
        # own strings would pin memory of every page read, so later pages could not
        # reuse it (measured: 8-15 % slower).
        keys = list(map(repr, ids_of(rows)))
        if yielded.isdisjoint(keys):
            before = len(yielded)
            yielded.update(keys)
            if len(yielded) - before == len(keys):
                return rows  # the common case: a page of rows all new
            return _first_of_each(keys, rows, set())  # the page repeats an id itself
        return _first_of_each(keys, rows, yielded)

    for _ in range(MAX_PASSES):
        first = await fetch(1)
        at_start = latest = page_total(first) or 0
        number = 0
        pages = pages_ahead(fetch, first, page_count(first, page_size), prefetch)
        del first
        async with aclosing(pages):
            async for number, page in pages:
                # A page older than the one before it (fetched ahead, before a call
                # arrived) may have missed a row that shifted onto it: fetch it again.
                while (page_total(page) or 0) < latest:
                    page = await fetch(number)
                latest = page_total(page) or 0
                batch = fresh(page)
                del page
                if batch:
                    yield batch
        # Calls that arrived pushed rows past the planned last page.
        while number * page_size < latest:
            number += 1
            page = await fetch(number)
            latest = max(latest, page_total(page) or 0)
            batch = fresh(page)
            del page
            if batch:
                yield batch
        # Calls only ever arrive, so every row the window had at the first page was
        # read unless the API reordered rows between pages (ties in call start).
        if len(yielded) >= at_start:
            return
    raise BulkError(
        f"calls {window.sdt} to {window.edt} kept changing over {MAX_PASSES} reads; try again later"
    )


def _first_of_each(keys: list[str], rows: list[Any], seen: set[str]) -> list[Any]:
    """The rows whose key is not in ``seen`` yet, each key's first; ``seen`` takes them."""
    kept = []
    for key, row in zip(keys, rows, strict=True):
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


async def _plan_batches(
    client: AsyncIovox,
    plan: WindowPlan,
    *,
    page_size: int,
    prefetch: int,
) -> AsyncGenerator[list[CdrRow], None]:
    for window in plan.windows:
        batches = window_batches(client, plan, window, page_size=page_size, prefetch=prefetch)
        async with aclosing(batches):
            async for batch in batches:
                yield batch


Batches = AsyncGenerator[list[CdrRow], None]
Opener = Callable[[], Awaitable[tuple[Batches, int]]]
"""Starts a reading: its batches of rows and the rows it expects in all."""


async def _rows(
    open_batches: Opener, *, progress: Progress | None = None
) -> AsyncGenerator[CdrRow, None]:
    """The rows of the batches ``open_batches`` gives, one by one, with a turn of the
    event loop and ``progress`` after every :data:`ROWS_PER_TURN` rows at most. The one
    generator a row passes through."""
    batches, total = await open_batches()
    done = 0
    if progress is not None:
        progress(0, total)
    async with aclosing(batches):
        async for batch in batches:
            for start in range(0, len(batch), ROWS_PER_TURN):
                chunk = batch[start : start + ROWS_PER_TURN]
                for row in chunk:
                    yield row
                done += len(chunk)
                if progress is not None:
                    progress(done, max(total, done))
                if len(chunk) == ROWS_PER_TURN:
                    await checkpoint()


def read_window(
    client: AsyncIovox,
    plan: WindowPlan,
    window: Window,
    *,
    page_size: int,
    prefetch: int,
) -> AsyncGenerator[CdrRow, None]:
    """Every row of ``window`` exactly once, read again until a pass is trusted."""

    async def open_batches() -> tuple[Batches, int]:
        batches = window_batches(client, plan, window, page_size=page_size, prefetch=prefetch)
        return batches, window.expected

    return _rows(open_batches)


def iter_plan(
    client: AsyncIovox,
    plan: WindowPlan,
    *,
    page_size: int,
    prefetch: int,
    progress: Progress | None = None,
) -> AsyncGenerator[CdrRow, None]:
    """Every row of every window of ``plan``, window after window."""

    async def open_batches() -> tuple[Batches, int]:
        return _plan_batches(client, plan, page_size=page_size, prefetch=prefetch), plan.total

    return _rows(open_batches, progress=progress)


def iter_call_data(
    client: AsyncIovox,
    *,
    page_size: int,
    prefetch: int,
    progress: Progress | None = None,
    window_rows: int = DEFAULT_WINDOW_ROWS,
    **filters: Any,
) -> AsyncGenerator[CdrRow, None]:
    """Every CDR ``filters`` select, each exactly once, however calls arrive meanwhile
    (the filters are checked, and the range planned, on the first iteration)."""

    async def open_batches() -> tuple[Batches, int]:
        check_filters(filters, page_size, prefetch)
        plan = await plan_windows(client, window_rows=window_rows, **filters)
        return _plan_batches(client, plan, page_size=page_size, prefetch=prefetch), plan.total

    return _rows(open_batches, progress=progress)


__all__ = [
    "DEFAULT_WINDOW_ROWS",
    "Window",
    "WindowPlan",
    "iter_call_data",
    "iter_plan",
    "plan_windows",
    "read_window",
    "window_batches",
]
