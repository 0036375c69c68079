"""Every CDR of a range: pages fetched concurrently, yielded in order, memory bounded."""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import os
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from .._errors import ValidationError
from .._files import discard, temporary_path
from ..interfaces._catalog import METHODS
from .report import Progress

if TYPE_CHECKING:
    from .._client import AsyncIovox

logger = logging.getLogger("iovox_async")

ExportFormat = Literal["csv", "jsonl"]

DEFAULT_PAGE_SIZE = 2000
"""Rows per page. Larger pages mean fewer requests but more memory per page in flight."""
DEFAULT_PREFETCH = 4
"""Pages fetched ahead of the one being yielded."""
MAX_PAGE_SIZE = 20000


def _result_fields() -> tuple[str, ...]:
    for element in METHODS["Calls"]["getCallData"].response:
        if element.name == "results":
            for child in element.children:
                if child.name == "result":
                    return tuple(grand.name for grand in child.children)
    return ()


CDR_FIELDS = _result_fields()
"""The CDR fields in the spec's order (CSV columns follow it)."""


def page_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one decoded ``getCallData`` page."""
    results = page.get("results")
    if isinstance(results, dict):
        rows = results.get("result") or []
    elif isinstance(results, list):
        rows = results
    else:
        rows = []
    return [row for row in rows if isinstance(row, dict)]


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _page_count(page: dict[str, Any], page_size: int) -> int:
    """Pages to read: the larger of the stated page count and the one the totals imply."""
    pages = _as_int(page.get("total_pages")) or 1
    results = _as_int(page.get("total_results"))
    if results is not None:
        pages = max(pages, math.ceil(results / page_size))
    return max(pages, 1)


FILTER_NAMES = frozenset(param.name for param in METHODS["Calls"]["getCallData"].query) - {
    "page",
    "limit",
}


def check_filters(filters: dict[str, Any], page_size: int, prefetch: int) -> None:
    """Reject arguments that would break paging."""
    for name in ("page", "limit"):
        if name in filters:
            raise ValidationError(f"{name} is set by the bulk iterator; use page_size")
    unknown = sorted(set(filters) - FILTER_NAMES)
    if unknown:
        known = ", ".join(sorted(FILTER_NAMES))
        raise ValidationError(f"getCallData has no filter {', '.join(unknown)}; known: {known}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if prefetch < 1:
        raise ValidationError("prefetch must be at least 1")


async def iter_call_data(
    client: AsyncIovox,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    prefetch: int = DEFAULT_PREFETCH,
    progress: Progress | None = None,
    **filters: Any,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield every CDR matching ``filters`` (the arguments of ``calls.get_call_data``).

    The first page gives the totals; the next ``prefetch`` pages are then fetched
    concurrently (each under the client's limiter and retry policy) while rows are
    yielded in page order. At most ``prefetch + 1`` pages are held in memory. If the
    result set changes while it is read (the totals move), a warning is logged: pin
    the range with ``sdt``/``edt`` for an exact export. Leaving the loop early
    cancels the pages in flight. Under trio the pages are read one at a time.
    """
    check_filters(filters, page_size, prefetch)

    async def fetch(number: int) -> dict[str, Any]:
        return await client.calls.get_call_data(page=number, limit=page_size, **filters)

    first = await fetch(1)
    total_pages = _page_count(first, page_size)
    total_results = _as_int(first.get("total_results"))
    done = 0
    if progress is not None:
        progress(0, total_results)
    pending: deque[asyncio.Task[dict[str, Any]]] = deque()
    next_page = 2
    # Pages are fetched ahead as asyncio tasks. Under trio an async generator cannot
    # own tasks across its yields, so there the pages are read one after another.
    ahead = _on_asyncio()

    def top_up() -> None:
        nonlocal next_page
        while ahead and next_page <= total_pages and len(pending) < prefetch:
            pending.append(asyncio.ensure_future(fetch(next_page)))
            next_page += 1

    try:
        top_up()
        page: dict[str, Any] | None = first
        del first
        number = 1
        while page is not None:
            rows = page_rows(page)
            moved = _as_int(page.get("total_results"))
            if moved is not None and total_results is not None and moved != total_results:
                logger.warning(
                    "getCallData totals changed during the export (page %d: %d results, page 1:"
                    " %d); pass sdt/edt to pin the range",
                    number,
                    moved,
                    total_results,
                )
                total_results = moved
            page = None
            for row in rows:
                yield row
            done += len(rows)
            if progress is not None:
                progress(done, total_results)
            del rows
            if pending:
                task = pending.popleft()
                page = await task
                number += 1
                top_up()
            elif not ahead and number < total_pages:
                number += 1
                page = await fetch(number)
    finally:
        for task in pending:
            task.cancel()
        if pending:
            # Wait for the cancelled pages so no request outlives the iterator.
            await asyncio.gather(*pending, return_exceptions=True)


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio
        return False
    return True


# -- export ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class _CsvSink:
    """Writes rows as CSV; the header comes from the first row, in the spec's order."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._columns: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._started = False
        self._warned = False

    def finish(self) -> None:
        if not self._started:  # an empty range still gets its header
            self._started = True
            self._writer.writerow(CDR_FIELDS)

    def write(self, row: dict[str, Any]) -> None:
        if not self._started:
            self._started = True
            known = [name for name in CDR_FIELDS if name in row]
            self._columns = known + [name for name in row if name not in CDR_FIELDS]
            self._known = frozenset(self._columns)
            self._writer.writerow(self._columns)
        if not self._warned and not self._known.issuperset(row):
            self._warned = True
            logger.warning("CSV export: a row has fields the first row lacked; they are dropped")
        self._writer.writerow(
            [value if type(value) is str else _cell(value) for value in map(row.get, self._columns)]
        )


class _JsonlSink:
    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def finish(self) -> None:
        pass

    def write(self, row: dict[str, Any]) -> None:
        self._handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        self._handle.write("\n")


_SUFFIX_FORMATS: dict[str, ExportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def export_format(path: Path, format: str | None) -> ExportFormat:
    """The export format: as given, or from the file's suffix.

    A suffix that names neither format (``.xlsx``, none at all) is refused rather than
    written as CSV under a name that promises something else.
    """
    if format is None:
        chosen = _SUFFIX_FORMATS.get(path.suffix.lower())
        if chosen is None:
            raise ValidationError(
                f"cannot tell the export format of {path.name!r} from its suffix: use .csv,"
                " .jsonl or .ndjson, or give the format ('csv' or 'jsonl')"
            )
        return chosen
    if format not in ("csv", "jsonl"):
        raise ValidationError(f"format must be 'csv' or 'jsonl', got {format!r}")
    return format  # type: ignore[return-value]


async def write_rows(
    rows: AsyncIterator[dict[str, Any]] | Iterable[dict[str, Any]],
    path: str | os.PathLike[str],
    format: str | None = None,
) -> int:
    """Write rows to ``path`` as CSV or JSON lines; the file appears only when complete."""
    target = Path(path)
    chosen = export_format(target, format)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(target)
    count = 0
    try:
        try:
            handle = temporary.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        except OSError as error:  # name the file asked for, not the temporary one
            raise OSError(error.errno, f"cannot write {target}: {error.strerror}") from None
        with handle:
            sink = _CsvSink(handle) if chosen == "csv" else _JsonlSink(handle)
            if isinstance(rows, AsyncIterator):
                async for row in rows:
                    sink.write(row)
                    count += 1
            else:
                for row in rows:
                    sink.write(row)
                    count += 1
            sink.finish()
        os.replace(temporary, target)
    finally:
        discard(temporary)  # still there only if something failed
    return count


__all__ = [
    "CDR_FIELDS",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PREFETCH",
    "ExportFormat",
    "iter_call_data",
    "page_rows",
    "write_rows",
]
