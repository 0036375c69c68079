"""Job state on disk that survives a crash: durable writes, atomic JSON, stale temporaries.

Every file a job keeps is written to a hidden temporary name, flushed to disk and
renamed into place, so after any crash (SIGKILL or power loss) a file is either
there whole or not there at all. The temporaries a killed run leaves behind are
recognised by their name (see :func:`iovox_async._files.temporary_path`) and removed
when a job is resumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import anyio

from .._errors import ValidationError
from .._files import discard, temporary_path
from .report import BulkError

_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}\.part$")


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is named like a temporary file of this library."""
    return bool(_TEMPORARY.match(path.name))


def remove_temporaries(folder: Path, of: str | None = None) -> int:
    """Remove the temporary files in ``folder`` (only those of the file named ``of``,
    when given); return how many. Call it only when no other run writes there."""
    removed = 0
    prefix = f".{of}." if of is not None else ""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and entry.name.startswith(prefix):
                path = Path(entry.path)
                if is_temporary(path):
                    discard(path)
                    removed += 1
    return removed


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):  # not on Windows
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def durable(handle: BinaryIO | Any) -> None:
    """Flush a file object and its system buffers to disk."""
    handle.flush()
    os.fsync(handle.fileno())


@contextlib.contextmanager
def held(manifest: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on a job's ``manifest`` for the block, so that a second run
    of the same job (a retried worker, a task started twice) fails at once instead of
    writing into the first one's files. Nothing is held where there is no manifest yet
    or no ``fcntl`` (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    try:
        descriptor = os.open(manifest, os.O_RDONLY)
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BulkError(f"{what} is running already (its job folder is in use)") from None
        yield
    finally:
        os.close(descriptor)


SYNC_EVERY_ROWS = 10_000
"""Rows written between two early syncs of a growing file (a few MB of CDRs)."""


@contextlib.asynccontextmanager
async def write_behind(
    handle: TextIO, on_rows: Callable[[int], object] | None = None
) -> AsyncIterator[Callable[[int], None]]:
    """Send a file's new bytes to disk in a worker thread as it grows, so that the fsync
    that makes it durable at the end finds little left to write (it waits for the disk
    as long as it has bytes to send).

    Yields the ``on_rows(count)`` to call after each write: every
    :data:`SYNC_EVERY_ROWS` rows it flushes ``handle`` and starts an ``fdatasync`` in a
    thread (unless one is still running), and it passes every count on to ``on_rows``.
    On exit, a sync still running is waited for, so the file may then be closed.
    """
    syncing: threading.Thread | None = None
    unsynced = 0

    def counted(count: int) -> None:
        nonlocal syncing, unsynced
        unsynced += count
        if unsynced >= SYNC_EVERY_ROWS and (syncing is None or not syncing.is_alive()):
            unsynced = 0
            handle.flush()
            syncing = threading.Thread(target=_sync_data, args=(handle.fileno(),), daemon=True)
            syncing.start()
        if on_rows is not None:
            on_rows(count)

    try:
        yield counted
    finally:
        if syncing is not None:
            with anyio.CancelScope(shield=True):  # the file is closed next
                await anyio.to_thread.run_sync(syncing.join)


def _sync_data(descriptor: int) -> None:
    with contextlib.suppress(OSError):  # it only saves time: the final fsync decides
        os.fdatasync(descriptor)


@contextlib.contextmanager
def replacing(target: Path, mode: str = "wb", **options: Any) -> Iterator[Any]:
    """Write ``target`` through a temporary file that replaces it only when complete
    and on disk; on any failure the temporary is removed and ``target`` untouched."""
    temporary = temporary_path(target)
    try:
        try:
            handle = temporary.open(mode, **options)
        except OSError as error:  # name the file asked for, not the temporary one
            raise OSError(error.errno, f"cannot write {target}: {error.strerror}") from None
        with handle:
            yield handle
            durable(handle)
        os.replace(temporary, target)
        sync_folder(target.parent)
    finally:
        discard(temporary)  # still there only if something failed


def write_json(target: Path, data: Any) -> None:
    """Replace ``target`` with ``data`` as JSON, atomically and durably."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    with replacing(target, "w", encoding="utf-8") as handle:
        handle.write(text)


def read_json(source: Path, what: str) -> Any:
    """``source`` as JSON; a clear error naming ``what`` it should hold otherwise."""
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValidationError(f"{source} is not a {what}: {error}") from None


__all__ = [
    "durable",
    "held",
    "is_temporary",
    "read_json",
    "remove_temporaries",
    "replacing",
    "sync_folder",
    "write_behind",
    "write_json",
]
