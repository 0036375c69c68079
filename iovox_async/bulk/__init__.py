"""The bulk engine: whole ranges, folders and baskets through the public client.

::

    async with AsyncIovox(...) as iovox:
        async for cdr in iovox.bulk.iter_call_data(sdt=..., edt=...):   # exactly once each
            ...
        count = await iovox.bulk.export_call_data("calls.csv", sdt=..., resume=True)
        sync = iovox.bulk.sync_call_data(checkpoint)                    # only what is new
        report = await iovox.bulk.download_recordings(call_ids, "recs/", concurrency=32)
        report = await iovox.bulk.purchase_numbers(items, dry_run=True)
        report = await iovox.bulk.send_sms([{"origin": ..., "destination": ..., "message": ...}])
        report = await iovox.bulk.initiate_calls([{"link_id": ..., "call_variables": {...}}])
        report = await iovox.bulk.map(fetch_one, ids, concurrency=16)

Every job bounds its concurrency (and every request still goes through the client's
limiter and retry policy), reports per item (one failure never sinks the batch),
and takes a ``progress(done, total)`` callback.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .cdrs import DEFAULT_PAGE_SIZE, DEFAULT_PREFETCH, CdrRow, api_text
from .export import DEFAULT_WINDOW_CONCURRENCY, ExportJob, export_call_data, job_folder
from .mapping import DEFAULT_CONCURRENCY, bulk_map
from .messages import DEFAULT_SETTLE, PlacedCall, SentSms, initiate_calls, send_sms
from .numbers import Purchase, bought, purchase_numbers
from .recordings import (
    CallOrId,
    Recording,
    download_recordings,
    recording_counts,
    safe_filename,
)
from .report import BulkError, BulkReport, ItemResult, Progress, SkipItem, Status
from .sync import DEFAULT_OVERLAP, CallDataSync, SyncCheckpoint
from .windows import DEFAULT_WINDOW_ROWS, Window, WindowPlan, iter_call_data, plan_windows

if TYPE_CHECKING:
    from .._client import AsyncIovox

T = TypeVar("T")
R = TypeVar("R")


class Bulk:
    """Bulk jobs on one client: ``iovox.bulk``."""

    def __init__(self, client: AsyncIovox) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<Bulk of {self._client!r}>"

    def iter_call_data(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        progress: Progress | None = None,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        **filters: Any,
    ) -> AsyncGenerator[CdrRow, None]:
        """Every CDR matching ``filters`` (``calls.get_call_data``'s arguments), each
        exactly once, oldest first (``order="cs_DESC"`` for newest first).

        Rows are ``CallDataResult`` dicts with typed values, read from ``output=JSON``
        pages unless ``output`` is given.

        The range is pinned when the iteration starts (an open end at the newest call
        then listed) and cut into time windows of at most ``window_rows`` calls; each
        window is read, ``prefetch`` pages of ``page_size`` ahead, until its count held
        still through a whole read, skipping ids already yielded. Every CDR the range
        held when the iteration began is yielded once, whatever arrives meanwhile.
        ``progress(rows_done, total_rows)``. Use ``async with contextlib.aclosing(...)``
        to stop early and cancel the pages in flight at once.
        """
        return iter_call_data(
            self._client,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
            window_rows=window_rows,
            **filters,
        )

    async def plan_call_data(
        self, *, window_rows: int = DEFAULT_WINDOW_ROWS, **filters: Any
    ) -> WindowPlan:
        """Pin the range ``filters`` select and cut it into windows (plain data:
        ``plan.to_dict()``); read a window with :meth:`iter_window`."""
        return await plan_windows(self._client, window_rows=window_rows, **filters)

    def iter_window(
        self,
        plan: WindowPlan,
        window: Window,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
    ) -> AsyncGenerator[CdrRow, None]:
        """Every CDR of one window of ``plan``, exactly once (any process may read any
        window; together they are the whole range)."""
        from .windows import read_window

        return read_window(self._client, plan, window, page_size=page_size, prefetch=prefetch)

    async def export_call_data(
        self,
        path: str | os.PathLike[str],
        format: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        concurrency: int = DEFAULT_WINDOW_CONCURRENCY,
        resume: bool = False,
        progress: Progress | None = None,
        **filters: Any,
    ) -> int:
        """Write every CDR matching ``filters`` to ``path``, exactly once; return the rows.

        ``format`` is ``"csv"`` or ``"jsonl"`` (by default from the suffix: ``.csv``,
        ``.jsonl`` or ``.ndjson``; any other suffix is refused). Nested values
        (categories) are JSON in CSV cells. The windows are appended in order to a file
        in ``<path>.parts/`` that becomes ``path`` when every window is in it; with
        ``concurrency`` above 1, that many windows are read at once, the others into
        part files copied in at the end. An interrupted export (even killed) keeps its
        whole windows: ``resume=True`` (asked with the same arguments) cuts off a
        half-written one, removes its temporary files and reads only the windows left;
        without it, any earlier job for ``path`` is discarded. The result is the same
        bytes as an uninterrupted run.
        """
        return await export_call_data(
            self._client,
            path,
            format,
            page_size=page_size,
            prefetch=prefetch,
            window_rows=window_rows,
            concurrency=concurrency,
            resume=resume,
            progress=progress,
            **filters,
        )

    async def plan_export(
        self,
        path: str | os.PathLike[str],
        format: str | None = None,
        *,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        **filters: Any,
    ) -> ExportJob:
        """Plan an export to ``path`` for other workers: the job folder is written and
        each of ``job.plan.windows`` can be run anywhere with
        ``ExportJob.open(path).run_window(client, index)``; ``job.merge()`` then
        writes ``path``."""
        return await ExportJob.create(
            self._client, path, format, window_rows=window_rows, **filters
        )

    def sync_call_data(
        self,
        checkpoint: SyncCheckpoint | Mapping[str, Any] | None,
        *,
        sdt: Any = None,
        overlap: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        window_rows: int = DEFAULT_WINDOW_ROWS,
        **filters: Any,
    ) -> CallDataSync:
        """The CDRs not yet handed out since ``checkpoint`` (``None`` and ``sdt`` the
        first time), oldest first; ``sync.checkpoint`` is the next one once read
        through. Each run looks ``overlap`` seconds (default an hour) behind the newest
        call it had seen, so CDRs listed late are caught, and skips the ids it already
        handed out there, so none comes twice."""
        return CallDataSync(
            self._client,
            checkpoint,
            sdt=sdt,
            overlap=overlap,
            page_size=page_size,
            prefetch=prefetch,
            window_rows=window_rows,
            **filters,
        )

    async def download_recordings(
        self,
        calls_or_ids: Iterable[CallOrId] | AsyncIterable[CallOrId],
        dest: str | os.PathLike[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
        overwrite: bool = False,
        suffix: str = ".mp3",
        resume: bool = False,
        on_result: Callable[[ItemResult[Recording]], object] | None = None,
    ) -> BulkReport[Recording]:
        """Download the recording of every call into the folder ``dest`` as
        ``<call id>.mp3`` (names are sanitised ids; ``suffix`` changes the extension).

        ``calls_or_ids`` are ids or CDR dicts, or an async iterable of them
        (``bulk.iter_call_data(...)``): the downloads then start while the CDRs are still
        being read. Each body streams to a temporary file, is checked against its
        Content-Length and renamed into place only when complete. Files already present
        are skipped unless ``overwrite``; CDRs without a recording (``has_recording``
        false) and repeated ids are skipped too, and so is a call the API says has no
        recording. The report has one :class:`ItemResult` per input: ``ok`` (a
        :class:`Recording`), ``skipped`` (reason ``ALREADY_ON_DISK``, ``NO_RECORDING``
        or a duplicate) or ``failed`` with the reason; ``recording_counts(report)``
        tells them apart. ``on_result(item)`` is called as each item ends (e.g. to count
        bytes). Cancelling leaves no partial files and frees every connection.
        ``resume`` first removes the temporary files a killed run left in ``dest``
        (only then: another run might be writing them).
        """
        return await download_recordings(
            self._client,
            calls_or_ids,
            dest,
            concurrency=concurrency,
            progress=progress,
            overwrite=overwrite,
            suffix=suffix,
            resume=resume,
            on_result=on_result,
        )

    async def purchase_numbers(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        dry_run: bool = False,
        callback_url: str | None = None,
        cc_list: str | None = None,
        dynamic_quantity: bool | None = None,
        concurrency: int = 1,
        reconcile: bool = True,
        progress: Progress | None = None,
    ) -> BulkReport[Purchase]:
        """Buy VoxNumbers, one ``purchaseVoxNumbers`` call per basket item, never twice.

        Items are dicts like ``{"country_code": 44, "area_code": 151, "number_type":
        "GEOGRAPHIC", "quantity": 2}``, all validated first; an invalid item fails
        without being sent. ``dry_run`` sends no purchase: each valid item's region is
        looked up with ``getVoxnumberRegions``, an item the real run would fail on
        (region not offered, purchase details missing) is reported ``failed`` with the
        reason, and the others ``skipped`` with what they would buy. Otherwise the
        purchases are sent ``concurrency`` at a time (one by one by default). A
        purchase whose answer is lost is not retried; with ``reconcile`` the account's
        numbers are compared before and after to settle it as bought or not, and
        otherwise it stays ``unknown``.
        """
        return await purchase_numbers(
            self._client,
            items,
            dry_run=dry_run,
            callback_url=callback_url,
            cc_list=cc_list,
            dynamic_quantity=dynamic_quantity,
            concurrency=concurrency,
            reconcile_unknown=reconcile,
            progress=progress,
        )

    async def send_sms(
        self,
        messages: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 4,
        reconcile: bool = True,
        settle: float = DEFAULT_SETTLE,
        progress: Progress | None = None,
    ) -> BulkReport[SentSms]:
        """Send SMS, one ``sendSms`` call per item, never twice.

        Items are dicts of ``sendSms``'s payload (``origin``, ``destination``,
        ``message``, options), validated before anything is sent. An SMS whose answer
        is lost is not retried; with ``reconcile`` it is looked up in ``getSmsData``
        (``getSmsHistory`` as a fallback) ``settle`` seconds after the batch and
        reported ``ok`` (applied), ``failed`` (not applied) or ``unknown``.
        """
        return await send_sms(
            self._client,
            messages,
            concurrency=concurrency,
            reconcile_unknown=reconcile,
            settle=settle,
            progress=progress,
        )

    async def initiate_calls(
        self,
        calls: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 4,
        reconcile: bool = True,
        progress: Progress | None = None,
    ) -> BulkReport[PlacedCall]:
        """Place click-to-calls, one ``initiateCall`` per item, never twice.

        Items are dicts like ``{"link_id": "...", "call_variables": {"call_destination":
        "447700900123"}}``, all validated before anything is sent. A call whose answer
        is lost is not retried; with ``reconcile`` it is looked up in ``getCallData``
        (``ctype=API``) for its link: ``ok`` when found, otherwise ``unknown`` (a call
        is recorded once it ended).
        """
        return await initiate_calls(
            self._client,
            calls,
            concurrency=concurrency,
            reconcile_unknown=reconcile,
            progress=progress,
        )

    async def map(
        self,
        func: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkReport[R]:
        """Await ``func(item)`` for every item, ``concurrency`` at a time.

        ``items`` may be an async iterable (e.g. ``bulk.iter_call_data(...)``): it is
        read as the work goes, never all at once, and ``total`` in progress calls is
        then ``None``. Results are in input order, each ``ok`` with its value or
        ``failed`` with the exception (``unknown`` for an ``OutcomeUnknownError``); one
        failure never sinks the batch, but an exception from the async source itself
        stops the job and is raised. ``progress(done, total)`` after each item.
        Cancelling the call cancels the items in flight.
        """
        return await bulk_map(func, items, concurrency=concurrency, progress=progress)


__all__ = [
    "DEFAULT_OVERLAP",
    "Bulk",
    "BulkError",
    "BulkReport",
    "CallDataSync",
    "ExportJob",
    "ItemResult",
    "PlacedCall",
    "Progress",
    "Purchase",
    "Recording",
    "SentSms",
    "SkipItem",
    "Status",
    "SyncCheckpoint",
    "Window",
    "WindowPlan",
    "api_text",
    "bought",
    "job_folder",
    "recording_counts",
    "safe_filename",
]
