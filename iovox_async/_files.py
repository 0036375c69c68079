"""Files that appear only when complete: a hidden temporary name, then a rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO


def temporary_path(path: Path) -> Path:
    """A hidden, unique temporary name beside ``path``."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")


def create_for_writing(path: Path) -> BinaryIO:
    """Open ``path`` for writing, creating its folder only when it is missing.

    Trying the open first saves two system calls per file in the usual case, where
    the folder exists (this runs once per recording of a bulk download).
    """
    try:
        return path.open("wb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb")


def discard(path: Path) -> None:
    """Remove a temporary file if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def append_file(source: Path, handle: BinaryIO) -> int:
    """Append the whole of ``source`` to the open file ``handle``; return the bytes.

    The kernel copies it (``copy_file_range``) where it can, so the bytes never pass
    through Python; elsewhere, or across file systems that refuse, a buffered copy.
    """
    handle.flush()
    size = source.stat().st_size
    with source.open("rb") as reader:
        copied = 0
        copy_range = getattr(os, "copy_file_range", None)
        try:
            while copy_range is not None and copied < size:
                moved = copy_range(reader.fileno(), handle.fileno(), size - copied)
                if moved == 0:
                    break  # the source ended early (it shrank): copy what is left below
                copied += moved
        except OSError:  # not supported here: the buffered copy takes over where it stopped
            pass
        if copied < size:
            reader.seek(copied)
            handle.seek(0, os.SEEK_END)
            shutil.copyfileobj(reader, handle, 1 << 20)
            copied = size
    return copied
