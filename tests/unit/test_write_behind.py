"""write_behind: a growing file's bytes go to disk early, in a thread, as rows are written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iovox_async.bulk import jobstate


async def test_it_syncs_every_so_many_rows_and_passes_the_counts_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(jobstate, "SYNC_EVERY_ROWS", 3)
    monkeypatch.setattr(os, "fdatasync", lambda fd: synced.append(os.fstat(fd).st_size))
    seen: list[int] = []
    with (tmp_path / "grows.csv").open("w", encoding="utf-8") as handle:
        async with jobstate.write_behind(handle, seen.append) as counted:
            for _ in range(7):
                handle.write("a,b\n")
                counted(1)
    assert seen == [1] * 7
    # Flushed before each sync: the thread saw the rows written so far.
    assert synced and all(size % 4 == 0 and size >= 12 for size in synced)


async def test_an_error_inside_comes_out_as_itself(tmp_path: Path) -> None:
    with (tmp_path / "grows.csv").open("w", encoding="utf-8") as handle, pytest.raises(KeyError):
        async with jobstate.write_behind(handle) as counted:
            counted(jobstate.SYNC_EVERY_ROWS)  # a sync in flight when it fails
            raise KeyError("boom")
