"""Download call recordings to a folder: streamed, size-checked, resumable, sanitised names."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import APIError, ValidationError
from .jobstate import remove_temporaries
from .mapping import DEFAULT_CONCURRENCY, bulk_map, check_concurrency, indexed_map
from .report import BulkReport, ItemResult, Progress, SkipItem, describe

if TYPE_CHECKING:
    from .._client import AsyncIovox

CallOrId = str | int | Mapping[str, Any]
"""A call id, or a CDR (a dict with ``id`` and optionally ``has_recording``)."""

ALREADY_ON_DISK = "already on disk"
NO_RECORDING = "the call has no recording"
DUPLICATE = "duplicate of item"
_API_NO_RECORDING = "does not have a recording"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 100


@dataclass(frozen=True, slots=True)
class Recording:
    """A recording on disk: the call it belongs to, where it is, and its size in bytes."""

    call_id: str
    path: Path
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "path": str(self.path), "size": self.size}


def safe_filename(call_id: str, suffix: str = ".mp3") -> str:
    """A file name for a call id that cannot leave the folder or hide itself.

    Anything but letters, digits, ``.``, ``_`` and ``-`` is replaced, leading dots
    are dropped and the length is capped; when the id had to be changed, a short
    hash of the original is appended so two ids never share a name.
    """
    cleaned = _UNSAFE.sub("_", call_id).strip("._-")[:_MAX_STEM]
    if cleaned != call_id or not cleaned:
        digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        cleaned = f"{cleaned or 'call'}-{digest}"
    return cleaned + suffix


def call_id_of(item: CallOrId) -> tuple[str, str | None]:
    """The call id of an id or a CDR, and why to skip it (no recording), if so."""
    skip = None
    if isinstance(item, Mapping):
        raw = item.get("id")
        if str(item.get("has_recording", "1")).strip() in ("0", "false", "FALSE", "False"):
            skip = NO_RECORDING
    else:
        raw = item
    if isinstance(raw, bool) or not isinstance(raw, (str, int)) or str(raw).strip() == "":
        raise ValidationError(f"not a call id or a CDR with an id: {item!r}")
    return str(raw).strip(), skip


def _make_folder(dest: str | os.PathLike[str]) -> Path:
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _existing_size(path: Path) -> int:
    """The size of a regular file at ``path`` (0 when there is none)."""
    try:
        status = os.stat(path)
    except OSError:
        return 0
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


async def download_recordings(
    client: AsyncIovox,
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
    """The engine of :meth:`Bulk.download_recordings` (documented there), for ``client``."""
    check_concurrency(concurrency)
    if not suffix.startswith(".") or "/" in suffix or "\\" in suffix:
        raise ValidationError(f"suffix must look like '.mp3', got {suffix!r}")
    folder = _make_folder(dest)
    if resume:
        remove_temporaries(folder)
    first_index: dict[str, int] = {}

    async def fetch(ref: _Ref) -> Recording:
        if ref.invalid is not None:
            raise ref.invalid
        if ref.skip is not None:
            raise SkipItem(ref.skip)
        first = first_index.setdefault(ref.call_id, ref.index)
        if first != ref.index:
            raise SkipItem(f"{DUPLICATE} {first}")
        path = folder / safe_filename(ref.call_id, suffix)
        size = _existing_size(path)
        if size > 0 and not overwrite:
            raise SkipItem(ALREADY_ON_DISK, Recording(ref.call_id, path, size))
        try:
            size = await client.calls.get_call_recording_to_file(path, id=ref.call_id)
        except APIError as error:
            if any(_API_NO_RECORDING in message for message in error.messages):
                raise SkipItem(NO_RECORDING) from None
            raise
        return Recording(ref.call_id, path, size)

    async def fetch_and_tell(ref: _Ref) -> Recording:
        try:
            recording = await fetch(ref)
        except SkipItem as skip:
            tell(ItemResult(ref.index, ref.call_id, "skipped", skip.value, reason=skip.reason))
            raise
        except Exception as error:
            tell(ItemResult(ref.index, ref.call_id, "failed", error=error, reason=describe(error)))
            raise
        tell(ItemResult(ref.index, ref.call_id, "ok", recording))
        return recording

    def tell(result: ItemResult[Recording]) -> None:
        if on_result is not None:
            on_result(result)

    report: BulkReport[Any] = await bulk_map(
        fetch_and_tell if on_result is not None else fetch,
        indexed_map(_ref, calls_or_ids),
        concurrency=concurrency,
        progress=progress,
    )
    for result in report.results:  # the report names each call by its id
        result.item = result.item.call_id
    return report


@dataclass(frozen=True, slots=True)
class _Ref:
    """What the job keeps of one input: the report must not hold whole CDRs."""

    index: int
    call_id: str  # for an invalid item, a short text of it
    skip: str | None = None
    invalid: ValidationError | None = None


def _ref(index: int, item: CallOrId) -> _Ref:
    try:
        call_id, skip = call_id_of(item)
    except ValidationError as error:
        return _Ref(index, _plain(item), invalid=error)
    return _Ref(index, call_id, skip)


def _plain(item: Any) -> str:
    return str(item) if isinstance(item, (str, int)) else repr(item)[:200]


def total_bytes(report: BulkReport[Recording]) -> int:
    """Bytes downloaded by the ``ok`` items of a recordings report."""
    return sum(recording.size for recording in report.values())


OUTCOMES = ("downloaded", "already_on_disk", "no_recording", "duplicate", "failed", "unknown")
"""The kinds :func:`outcome` sorts a recordings item into, in report order."""


def outcome(result: ItemResult[Any]) -> str:
    """What became of one recordings item: one of :data:`OUTCOMES`."""
    if result.status == "ok":
        return "downloaded"
    if result.status == "skipped":
        reason = result.reason or ""
        if reason == ALREADY_ON_DISK:
            return "already_on_disk"
        if reason == NO_RECORDING:
            return "no_recording"
        return "duplicate"
    return result.status


def recording_counts(report: BulkReport[Recording]) -> dict[str, int]:
    """How many items ended in each of :data:`OUTCOMES` (zeros included)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for result in report.results:
        counts[outcome(result)] += 1
    return counts


__all__ = [
    "ALREADY_ON_DISK",
    "NO_RECORDING",
    "OUTCOMES",
    "CallOrId",
    "Recording",
    "download_recordings",
    "outcome",
    "recording_counts",
    "safe_filename",
    "total_bytes",
]
