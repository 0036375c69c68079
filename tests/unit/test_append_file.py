"""append_file: the whole source after what the handle already holds, by any route."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iovox_async import _files
from iovox_async._files import append_file

DATA = os.urandom(3 * (1 << 20) + 12345)  # more than one chunk of the buffered copy


def _append(tmp_path: Path) -> bytes:
    source = tmp_path / "part.csv"
    source.write_bytes(DATA)
    target = tmp_path / "out.csv"
    with target.open("wb") as handle:
        handle.write(b"header\n")  # still in the handle's buffer: must land first
        assert append_file(source, handle) == len(DATA)
        handle.write(b"tail\n")
    return target.read_bytes()


def test_the_kernel_copy(tmp_path: Path) -> None:
    assert _append(tmp_path) == b"header\n" + DATA + b"tail\n"


def test_a_refused_kernel_copy_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def refuse(source: int, target: int, count: int) -> int:
        calls.append(count)
        if len(calls) == 1:  # a first piece goes through, then the file system refuses
            return os.write(target, os.pread(source, 1000, 0)) and os.lseek(source, 1000, 0)
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(_files.os, "copy_file_range", refuse, raising=False)
    assert _append(tmp_path) == b"header\n" + DATA + b"tail\n"
    assert len(calls) == 2


def test_no_kernel_copy_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(_files.os, "copy_file_range", raising=False)
    assert _append(tmp_path) == b"header\n" + DATA + b"tail\n"
