"""Incremental sync: exactly the new CDRs each run, late-listed ones included, crash-safe."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iovox_async import ValidationError
from iovox_async.bulk import Bulk, SyncCheckpoint
from iovox_async.bulk.sync import sync_to_file
from iovox_async.testing import RunningEmulator, run_emulator

from .live import CALL_START, existing_ids, insert_call


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator(calls=400, seed=13) as running:
        yield running


async def run_sync(
    bulk: Bulk, checkpoint: dict | None, **options: object
) -> tuple[list[str], dict]:
    sync = bulk.sync_call_data(checkpoint, page_size=40, window_rows=120, **options)
    ids = [row["id"] async for row in sync]
    return ids, json.loads(json.dumps(sync.checkpoint.to_dict()))


async def test_two_runs_yield_exactly_the_new_calls(emulator: RunningEmulator) -> None:
    everything = existing_ids(emulator)
    newest = emulator.state.call_store.rows[-1][CALL_START]
    async with emulator.client() as client:
        bulk = Bulk(client)
        first, checkpoint = await run_sync(bulk, None, sdt="2000-01-01")
        assert sorted(first) == sorted(everything)
        assert checkpoint["high_water"] == newest

        again, same = await run_sync(bulk, checkpoint)
        assert again == []  # nothing new: nothing twice

        ten_minutes_before = (
            newest[:-5] + "30:00" if newest[-5:] > "30:00" else newest[:-5] + "00:00"
        )
        late = insert_call(emulator, ten_minutes_before)  # listed late, within the overlap
        later = insert_call(emulator, "2026-10-14 23:00:00")
        much_older = insert_call(emulator, "2001-01-01 00:00:00")  # beyond the overlap
        new, checkpoint = await run_sync(bulk, same)
        assert sorted(new) == sorted([late, later])
        assert much_older not in new  # documented limit: listed later than the overlap
        assert checkpoint["high_water"] == "2026-10-14 23:00:00"

        final, _ = await run_sync(bulk, checkpoint)
        assert final == []


async def test_bad_checkpoints_and_arguments_are_refused(emulator: RunningEmulator) -> None:
    async with emulator.client() as client:
        bulk = Bulk(client)
        with pytest.raises(ValidationError, match="needs sdt"):
            bulk.sync_call_data(None)
        with pytest.raises(ValidationError, match="checkpoint"):
            bulk.sync_call_data({"version": 99})
        with pytest.raises(ValidationError, match="edt is set by the sync"):
            bulk.sync_call_data(None, sdt="2026-01-01", edt="2026-02-01")
        _, checkpoint = await run_sync(bulk, None, sdt="2000-01-01")
        with pytest.raises(ValidationError, match="other filters"):
            bulk.sync_call_data(checkpoint, call_res="ANSWERED")
        assert SyncCheckpoint.from_dict(checkpoint).to_dict() == checkpoint


async def test_sync_to_file_survives_a_crash_between_file_and_state(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    target, state = tmp_path / "calls.csv", tmp_path / "state.json"
    async with emulator.client() as client:
        first = await sync_to_file(client, target, state, sdt="2000-01-01", page_size=50)
        assert first.rows == len(existing_ids(emulator))
        saved_state = state.read_bytes()
        saved_file = target.read_bytes()

        insert_call(emulator, "2026-10-14 22:00:00")
        insert_call(emulator, "2026-10-14 22:00:01")
        second = await sync_to_file(client, target, state, page_size=50)
        assert second.rows == 2
        after_second = target.read_bytes()

        # A crash after the rows reached the file but before the state was replaced:
        state.write_bytes(saved_state)
        retried = await sync_to_file(client, target, state, page_size=50)
        assert retried.rows == 2 and retried.truncated == len(after_second) - len(saved_file)
        assert target.read_bytes() == after_second

        with target.open(newline="", encoding="utf-8") as handle:
            ids = [row["id"] for row in csv.DictReader(handle)]
        assert len(ids) == len(set(ids)) == len(existing_ids(emulator))

        target.write_bytes(saved_file[:100])  # changed behind the sync's back
        with pytest.raises(ValidationError, match="shorter"):
            await sync_to_file(client, target, state)
