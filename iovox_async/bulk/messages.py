"""Send SMS and place click-to-calls in bulk, each at most once, outcomes settled.

``sendSms`` and ``initiateCall`` have side effects, so the client never repeats one
that may have reached the server: it raises ``OutcomeUnknownError`` instead. These
jobs then settle each such item from the account's own records, as purchases are:

* Before the batch, the newest record is read (``getSmsData``, or ``getCallData``
  with call type ``API``), which gives the server's clock and which records
  already existed.
* After it, every item whose outcome is unknown is looked for among the records
  that are newer: an SMS by origin, destination and text (``getSmsData``, falling
  back to ``getSmsHistory`` when it cannot be read); a call by link, and by
  destination when the item names one (``getCallData`` ``ctype=API``). Each record
  is attributed to at most one item, never to one whose answer arrived.

Each item ends ``ok`` (applied; ``reconciled`` says it was found afterwards),
``failed`` (not applied), or ``unknown`` (still unknown: check before sending again).
An SMS is listed as soon as ``sendSms`` accepts it (its answer carries the id), so an
SMS still absent from a ``getSmsData`` read taken ``settle`` seconds after the batch
is *not applied*. A call's record is written only when the call has ended, so a call
that is absent stays *unknown*.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from .._catalog import METHODS
from .._errors import ValidationError
from .mapping import bulk_map, check_concurrency
from .reconcile import as_list
from .report import BulkReport, ItemResult, Progress, describe

if TYPE_CHECKING:
    from .._client import AsyncIovox

DEFAULT_SETTLE = 5.0
"""Seconds to wait after the batch before reading the SMS records."""
_PAGE = 20000
_SNAPSHOT_ROWS = 50
_TIME = "%Y-%m-%d %H:%M:%S"


def _payload_fields(interface: str, method: str) -> frozenset[str]:
    return frozenset(element.name for element in METHODS[interface][method].payload or ())


SMS_FIELDS = _payload_fields("SMS", "sendSms")
CALL_FIELDS = _payload_fields("Calling", "initiateCall")


@dataclass(slots=True)
class SentSms:
    """One SMS of a :func:`send_sms` batch: its item and the id the API gave it."""

    item: dict[str, Any]
    sms_activity_id: str | None = None
    reconciled: bool = False


@dataclass(slots=True)
class PlacedCall:
    """One call of an :func:`initiate_calls` batch; ``call_id`` when it was found."""

    item: dict[str, Any]
    call_id: str | None = None
    reconciled: bool = False


# -- validation ---------------------------------------------------------------------


def _check_fields(
    kind: str, item: Any, known: frozenset[str], required: Iterable[str]
) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValidationError(f"{kind} must be a mapping, got {type(item).__name__}")
    clean = dict(item)
    problems = []
    unknown = sorted(set(clean) - known)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}")
    for name in required:
        value = clean.get(name)
        if value is None or not str(value).strip():
            problems.append(f"{name} is required")
    if problems:
        raise ValidationError(f"invalid {kind}: " + "; ".join(problems))
    return clean


def validate_sms(item: Any) -> dict[str, Any]:
    """Check one SMS item (``origin``, ``destination``, ``message``, options) before sending."""
    return _check_fields("SMS item", item, SMS_FIELDS, ("origin", "destination", "message"))


def validate_call(item: Any) -> dict[str, Any]:
    """Check one click-to-call item (``link_id``, optional ``call_variables``)."""
    clean = _check_fields("call item", item, CALL_FIELDS, ("link_id",))
    variables = clean.get("call_variables")
    if variables is not None and not isinstance(variables, Mapping):
        raise ValidationError("invalid call item: call_variables must be a mapping")
    return clean


# -- records ------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A record value as API text (typed results may hold datetimes or ints)."""
    if isinstance(value, dt.datetime):
        return value.strftime(_TIME)
    return "" if value is None else str(value).strip()


def _rows(answer: Any) -> list[dict[str, Any]]:
    results = answer.get("results") if isinstance(answer, Mapping) else None
    rows = results.get("result") if isinstance(results, Mapping) else None
    return [dict(row) for row in as_list(rows) if isinstance(row, Mapping)]


@dataclass(slots=True)
class _Baseline:
    """The newest record before a batch: the server's time, and the ids at that time."""

    time: str | None = None
    ids: frozenset[str] = frozenset()


def _baseline(rows: list[dict[str, Any]], time_key: str, id_key: str) -> _Baseline:
    times = [_text(row.get(time_key)) for row in rows if row.get(time_key)]
    if not times:
        return _Baseline()
    newest = max(times)
    ids = {_text(row.get(id_key)) for row in rows if _text(row.get(time_key)) >= newest}
    return _Baseline(newest, frozenset(ids))


def _is_new(row: Mapping[str, Any], before: _Baseline, time_key: str, id_key: str) -> bool:
    if before.time is None:
        return True
    return _text(row.get(time_key)) >= before.time and _text(row.get(id_key)) not in before.ids


async def _all_pages(fetch: Callable[..., Awaitable[Any]], **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await fetch(page=page, limit=_PAGE, **filters)
        found = _rows(answer)
        rows.extend(found)
        try:
            pages = int(answer.get("total_pages") or 1)
        except (TypeError, ValueError):
            pages = 1
        if page >= pages or not found:
            return rows
        page += 1


def _settle_as(result: ItemResult[Any], status: str, reason: str, value: Any = None) -> None:
    result.status = status  # type: ignore[assignment]
    result.reason = reason
    if value is not None:
        result.value = value


# -- SMS ----------------------------------------------------------------------------


async def _sms_baseline(client: AsyncIovox) -> _Baseline | None:
    try:
        answer = await client.sms.get_sms_data(limit=_SNAPSHOT_ROWS, order="date_DESC")
    except Exception:
        return None
    return _baseline(_rows(answer), "date", "sms_activity_id")


async def _sms_records(
    client: AsyncIovox, before: _Baseline, destination: str
) -> tuple[list[dict[str, Any]], bool]:
    """New SMS to ``destination`` as ``(rows, complete)``; complete rows carry ids."""
    since = before.time
    try:
        rows = await _all_pages(
            client.sms.get_sms_data, destination=destination, sdt=since, order="date_ASC"
        )
        return [row for row in rows if _is_new(row, before, "date", "sms_activity_id")], True
    except Exception:
        pass
    # getSmsHistory has no ids and no date filter: only what is newer than the baseline.
    history = await _all_pages(
        client.sms.get_sms_history, destination=destination, req_fields=["s", "d", "t", "m"]
    )
    rows = [
        {
            "origin": row.get("sender"),
            "destination": row.get("destination"),
            "message": row.get("message"),
            "date": row.get("time_sent"),
        }
        for row in history
        if before.time is None or _text(row.get("time_sent")) > before.time
    ]
    return rows, False


def _same_sms(row: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    return all(
        _text(row.get(name)) == _text(item.get(name))
        for name in ("origin", "destination", "message")
    )


async def _reconcile_sms(
    client: AsyncIovox, report: BulkReport[SentSms], before: _Baseline | None, settle: float
) -> None:
    unknown = report.unknown
    if not unknown:
        return
    if before is None:
        for result in unknown:
            result.reason = (
                f"{result.reason}; getSmsData could not be read before the batch: still unknown"
            )
        return
    await anyio.sleep(settle)
    claimed = {value.sms_activity_id for value in report.values() if value.sms_activity_id}
    by_destination: dict[str, list[ItemResult[SentSms]]] = {}
    for result in unknown:
        by_destination.setdefault(_text(result.item.get("destination")), []).append(result)
    for destination, results in by_destination.items():
        try:
            rows, complete = await _sms_records(client, before, destination)
        except Exception as error:
            for result in results:
                result.reason = f"{result.reason}; reconciliation failed: {describe(error)}"
            continue
        rows = [row for row in rows if _text(row.get("sms_activity_id")) not in claimed]
        if not complete:
            # Without ids, the answered SMS of the batch account for their own records.
            for value in report.values():
                answered = next((row for row in rows if _same_sms(row, value.item)), None)
                if answered is not None:
                    rows.remove(answered)
        for result in results:
            match = next((row for row in rows if _same_sms(row, result.item)), None)
            if match is not None:
                rows.remove(match)
                sms_id = _text(match.get("sms_activity_id")) or None
                source = "getSmsData" if complete else "getSmsHistory"
                _settle_as(
                    result,
                    "ok",
                    f"the outcome was unknown, but {source} lists it"
                    + (f" as {sms_id}" if sms_id else "")
                    + ": applied",
                    SentSms(result.item, sms_id, reconciled=True),
                )
            elif complete:
                _settle_as(
                    result,
                    "failed",
                    f"the outcome was unknown, and getSmsData lists no such SMS {settle:g} s"
                    " after the batch (an accepted SMS is listed at once): not applied",
                )
            else:
                result.reason = (
                    f"{result.reason}; getSmsHistory lists no such SMS, but getSmsData could"
                    " not be read to confirm it: still unknown"
                )


async def send_sms(
    client: AsyncIovox,
    messages: Iterable[Mapping[str, Any]],
    *,
    concurrency: int = 4,
    reconcile_unknown: bool = True,
    settle: float = DEFAULT_SETTLE,
    progress: Progress | None = None,
) -> BulkReport[SentSms]:
    """The engine of :meth:`Bulk.send_sms` (documented there), for ``client``."""
    check_concurrency(concurrency)
    entries = _validated(messages, validate_sms)
    before = None
    if reconcile_unknown and any(clean is not None for clean, _, _ in entries):
        before = await _sms_baseline(client)

    async def send(entry: _Entry) -> SentSms:
        clean = _checked(entry)
        answer = await client.sms.send_sms(**clean)
        sms_id = answer.get("sms_activity_id") if isinstance(answer, Mapping) else None
        return SentSms(clean, None if sms_id is None else str(sms_id))

    report = await bulk_map(send, entries, concurrency=concurrency, progress=progress)
    _restore_items(report, entries)
    if reconcile_unknown:
        await _reconcile_sms(client, report, before, settle)
    return report


# -- calls --------------------------------------------------------------------------


def _call_destination(item: Mapping[str, Any]) -> str:
    variables = item.get("call_variables")
    if not isinstance(variables, Mapping):
        return ""
    return _text(variables.get("call_destination")).split(",", 1)[0].strip()


async def _call_baseline(client: AsyncIovox) -> _Baseline | None:
    try:
        answer = await client.calls.get_call_data(
            ctype="API", limit=_SNAPSHOT_ROWS, order="cs_DESC"
        )
    except Exception:
        return None
    return _baseline(_rows(answer), "call_start", "id")


async def _reconcile_calls(
    client: AsyncIovox, report: BulkReport[PlacedCall], before: _Baseline | None
) -> None:
    unknown = report.unknown
    if not unknown:
        return
    if before is None:
        for result in unknown:
            result.reason = (
                f"{result.reason}; getCallData could not be read before the batch: still unknown"
            )
        return
    edt = None
    if before.time is not None:
        # A click-to-call may be delayed: look a little past today.
        start = dt.datetime.strptime(before.time, _TIME)
        edt = (start + dt.timedelta(days=2)).strftime(_TIME)
    groups: dict[tuple[str, str], list[ItemResult[PlacedCall]]] = {}
    for result in unknown:
        key = (_text(result.item.get("link_id")), _call_destination(result.item))
        groups.setdefault(key, []).append(result)
    for (link_id, destination), results in groups.items():
        try:
            rows = await _all_pages(
                client.calls.get_call_data, ctype="API", link_id=link_id, sdt=before.time, edt=edt
            )
        except Exception as error:
            for result in results:
                result.reason = f"{result.reason}; reconciliation failed: {describe(error)}"
            continue
        new = [
            row
            for row in rows
            if _is_new(row, before, "call_start", "id")
            and (not destination or _text(row.get("call_destination")) == destination)
        ]
        # initiateCall answers no id, so the calls of this batch that were answered
        # account for as many of the new records; the rest belong to unknown items.
        answered = sum(
            1
            for value in report.values()
            if not value.reconciled
            and _text(value.item.get("link_id")) == link_id
            and _call_destination(value.item) == destination
        )
        spare = new[answered:]
        for result in results:
            if spare:
                call_id = _text(spare.pop(0).get("id")) or None
                _settle_as(
                    result,
                    "ok",
                    f"the outcome was unknown, but getCallData (ctype=API) shows call"
                    f" {call_id} on link {link_id}: applied",
                    PlacedCall(result.item, call_id, reconciled=True),
                )
            else:
                result.reason = (
                    f"{result.reason}; getCallData (ctype=API) shows no new call on link"
                    f" {link_id} yet, and a call is recorded only once it has ended: still"
                    " unknown, check before calling again"
                )


async def initiate_calls(
    client: AsyncIovox,
    calls: Iterable[Mapping[str, Any]],
    *,
    concurrency: int = 4,
    reconcile_unknown: bool = True,
    progress: Progress | None = None,
) -> BulkReport[PlacedCall]:
    """The engine of :meth:`Bulk.initiate_calls` (documented there), for ``client``."""
    check_concurrency(concurrency)
    entries = _validated(calls, validate_call)
    before = None
    if reconcile_unknown and any(clean is not None for clean, _, _ in entries):
        before = await _call_baseline(client)

    async def place(entry: _Entry) -> PlacedCall:
        clean = _checked(entry)
        await client.calling.initiate_call(**clean)
        return PlacedCall(clean)

    report = await bulk_map(place, entries, concurrency=concurrency, progress=progress)
    _restore_items(report, entries)
    if reconcile_unknown:
        await _reconcile_calls(client, report, before)
    return report


# -- shared -------------------------------------------------------------------------


_Entry = tuple[dict[str, Any] | None, Any, ValidationError | None]


def _validated(items: Iterable[Any], validate: Callable[[Any], dict[str, Any]]) -> list[_Entry]:
    entries: list[_Entry] = []
    for raw in items:
        try:
            entries.append((validate(raw), raw, None))
        except ValidationError as error:
            entries.append((None, raw, error))
    return entries


def _restore_items(report: BulkReport[Any], entries: list[_Entry]) -> None:
    """Each result's item: the validated dict, or the raw input that was refused."""
    for result in report.results:
        clean, raw, _ = entries[result.index]
        result.item = clean if clean is not None else (raw if isinstance(raw, dict) else repr(raw))


def _checked(entry: _Entry) -> dict[str, Any]:
    clean, _, problem = entry
    if clean is None:
        raise problem or ValidationError("invalid item")
    return clean


__all__ = [
    "PlacedCall",
    "SentSms",
    "initiate_calls",
    "send_sms",
    "validate_call",
    "validate_sms",
]
