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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .._errors import ValidationError
from .._files import discard, temporary_path

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
    "is_temporary",
    "read_json",
    "remove_temporaries",
    "replacing",
    "sync_folder",
    "write_json",
]
