"""getCallData pages and CDR rows: fetching and decoding a page, and writing rows as text.

The windowed, exact iteration over a range lives in :mod:`.windows`; the jobs that
export, resume and sync build on both.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from .._catalog import METHODS
from .._errors import ValidationError
from .._files import discard, temporary_path
from ..interfaces.calls import CallDataResponse, CallDataResult

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


def page_rows(page: CallDataResponse) -> list[CallDataResult]:
    """The rows of one decoded ``getCallData`` page (always a list of dicts)."""
    return page.get("results", {}).get("result", [])


CdrRow = CallDataResult
"""One CDR as the client decodes it: typed values (``int``, ``datetime``, ``bool``)."""


async def fetch_page(client: AsyncIovox, **params: Any) -> CallDataResponse:
    """One page of typed rows. JSON unless the caller chose ``output``: it decodes
    faster than XML and converts to the very same rows."""
    return await client.calls.get_call_data(**{"output": "JSON", **params})


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


# -- export ---------------------------------------------------------------------------


def api_text(value: Any) -> str:
    """A value as the API writes it: the one place rows become text.

    Strings stay as they are; ``datetime`` is ``YYYY-MM-DD HH:MM:SS``, ``date``
    ``YYYY-MM-DD``, ``bool`` ``1``/``0`` (as CDRs carry it), ``None`` empty, numbers
    their digits and nested values (categories) compact JSON. An export is therefore
    the same bytes whether the rows were decoded as text or as typed values.
    """
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (dict, list)):
        return json.dumps(api_json(value), ensure_ascii=False, separators=(",", ":"))
    return str(value)


def api_json(value: Any) -> Any:
    """A row (or nested value) with every scalar as :func:`api_text` writes it."""
    if isinstance(value, dict):
        return {key: api_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_json(item) for item in value]
    return api_text(value)


class CsvRows:
    """Writes rows as CSV lines through :func:`api_text`.

    With ``columns`` the header is the caller's business (parts of one export share
    it); without, the header is written from the first row, in the spec's order.
    """

    def __init__(self, handle: TextIO, columns: Sequence[str] | None = None) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._columns: list[str] = list(columns or ())
        self._known: frozenset[str] = frozenset(self._columns)
        self._started = columns is not None
        self._warned = False

    def finish(self) -> None:
        if not self._started:  # an empty range still gets its header
            self._started = True
            self._writer.writerow(CDR_FIELDS)

    def write(self, row: Mapping[str, Any]) -> None:
        if not self._started:
            self._started = True
            self._columns = [name for name in CDR_FIELDS if name in row]
            self._columns += [name for name in row if name not in CDR_FIELDS]
            self._known = frozenset(self._columns)
            self._writer.writerow(self._columns)
        if not self._warned and not self._known.issuperset(row):
            self._warned = True
            logger.warning("CSV export: a row has fields the first row lacked; they are dropped")
        # Most values are text already: only the others pay for a call.
        self._writer.writerow(
            [
                value if value.__class__ is str else api_text(value)
                for value in map(row.get, self._columns)
            ]
        )


class JsonlRows:
    """Writes rows as JSON lines, every scalar as :func:`api_text` writes it."""

    def __init__(self, handle: TextIO, columns: Sequence[str] | None = None) -> None:
        self._handle = handle

    def finish(self) -> None:
        pass

    def write(self, row: Mapping[str, Any]) -> None:
        plain = all(type(value) is str for value in row.values())
        data = row if plain else api_json(dict(row))
        self._handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        self._handle.write("\n")


def row_writer(
    format: ExportFormat, handle: TextIO, columns: Sequence[str] | None = None
) -> CsvRows | JsonlRows:
    """The writer for ``format`` (CSV without a header when ``columns`` are given)."""
    return CsvRows(handle, columns) if format == "csv" else JsonlRows(handle)


def header_text(format: ExportFormat, columns: Sequence[str]) -> str:
    """The first line of an export with these columns ("" for JSON lines)."""
    if format != "csv":
        return ""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue()


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
            sink = row_writer(chosen, handle)
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
    "CdrRow",
    "CsvRows",
    "ExportFormat",
    "JsonlRows",
    "api_json",
    "api_text",
    "check_filters",
    "export_format",
    "fetch_page",
    "header_text",
    "page_rows",
    "row_writer",
    "write_rows",
]
