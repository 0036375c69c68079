"""The bulk engine: whole ranges, folders and baskets through the public client.

::

    async with AsyncIovox(...) as iovox:
        async for cdr in iovox.bulk.iter_call_data(sdt=..., edt=...):
            ...
        count = await iovox.bulk.export_call_data("calls.csv", sdt=..., edt=...)
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
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

from .cdrs import DEFAULT_PAGE_SIZE, DEFAULT_PREFETCH, iter_call_data, write_rows
from .mapping import DEFAULT_CONCURRENCY, bulk_map
from .messages import DEFAULT_SETTLE, PlacedCall, SentSms, initiate_calls, send_sms
from .numbers import Purchase, bought, purchase_numbers
from .recordings import CallOrId, Recording, download_recordings, safe_filename
from .report import BulkError, BulkReport, ItemResult, Progress, SkipItem, Status

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
        **filters: Any,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every CDR matching ``filters`` (``calls.get_call_data``'s arguments), in order.

        The first page gives the totals; up to ``prefetch`` further pages of
        ``page_size`` rows are fetched concurrently while rows are yielded, so at most
        ``prefetch + 1`` pages are in memory. ``progress(rows_done, total_rows)``.
        Use ``async with contextlib.aclosing(...)`` to stop early and cancel the
        pages in flight at once. Pin the range with ``sdt``/``edt``. Runs on asyncio
        (the other jobs run under trio too).
        """
        return iter_call_data(
            self._client, page_size=page_size, prefetch=prefetch, progress=progress, **filters
        )

    async def export_call_data(
        self,
        path: str | os.PathLike[str],
        format: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: int = DEFAULT_PREFETCH,
        progress: Progress | None = None,
        **filters: Any,
    ) -> int:
        """Write every CDR matching ``filters`` to ``path``; return the number of rows.

        ``format`` is ``"csv"`` or ``"jsonl"`` (by default from the suffix: ``.jsonl``
        or ``.ndjson`` mean JSON lines, anything else CSV). Nested values (categories)
        are JSON in CSV cells. The rows go to a temporary file that is renamed to
        ``path`` only when the whole range was written; on failure nothing is left.
        """
        rows = iter_call_data(
            self._client, page_size=page_size, prefetch=prefetch, progress=progress, **filters
        )
        async with aclosing(rows):
            return await write_rows(rows, path, format)

    async def download_recordings(
        self,
        calls_or_ids: Iterable[CallOrId] | AsyncIterable[CallOrId],
        dest: str | os.PathLike[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
        overwrite: bool = False,
        suffix: str = ".mp3",
    ) -> BulkReport[Recording]:
        """Download the recordings of calls (ids or CDR dicts) into the folder ``dest``.

        Streamed to temporary files, size-checked and renamed into place; existing
        files are skipped unless ``overwrite``; names are sanitised call ids. Returns
        one :class:`ItemResult` per input (``ok`` with a :class:`Recording`,
        ``skipped`` or ``failed`` with a reason).
        """
        return await download_recordings(
            self._client,
            calls_or_ids,
            dest,
            concurrency=concurrency,
            progress=progress,
            overwrite=overwrite,
            suffix=suffix,
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
        "GEOGRAPHIC", "quantity": 2}``, validated before anything is sent.
        ``dry_run`` sends nothing and reports what would be bought. A purchase whose
        answer is lost is not retried; with ``reconcile`` the account's numbers are
        compared before and after to settle it as bought or not, and otherwise it
        stays ``unknown``.
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
        "447700900123"}}``. A call whose answer is lost is not retried; with
        ``reconcile`` it is looked up in ``getCallData`` (``ctype=API``) for its link:
        ``ok`` when found, otherwise ``unknown`` (a call is recorded once it ended).
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
        items: Iterable[T],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        progress: Progress | None = None,
    ) -> BulkReport[R]:
        """Await ``func(item)`` for every item, ``concurrency`` at a time.

        Results are in input order, each ``ok`` with its value or ``failed`` with the
        exception (``unknown`` for an ``OutcomeUnknownError``); one failure never sinks
        the batch. ``progress(done, total)`` after each item.
        """
        return await bulk_map(func, items, concurrency=concurrency, progress=progress)


__all__ = [
    "Bulk",
    "BulkError",
    "BulkReport",
    "ItemResult",
    "PlacedCall",
    "Progress",
    "Purchase",
    "Recording",
    "SentSms",
    "SkipItem",
    "Status",
    "bought",
    "safe_filename",
]
