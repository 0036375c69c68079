"""Files that appear only when complete: a hidden temporary name, then a rename."""

from __future__ import annotations

import contextlib
import os
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
