"""The bulk engine against the emulator over loopback HTTP, with faults on.

Every request may fail: 10% are answered 500/502/503 and 2% have their connection
dropped after the method ran. Safe calls are retried by the client; purchases are
not, and must be reconciled.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from iovox_async import AsyncIovox
from iovox_async.bulk import Bulk
from iovox_async.emulator.audio import recording_bytes
from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import FaultSettings, FaultSpec, RunningEmulator, run_emulator

FAULTS = FaultSpec(error_rate=0.10, drop_rate=0.02)
EVERYTHING = {"sdt": "2000-01-01", "edt": "2100-12-31"}


def fast_client(emulator: RunningEmulator, **options: Any) -> AsyncIovox:
    """A client with generous retries and short back-off (tests run under 10% errors)."""
    client = emulator.client(max_retries=8, **options)
    client._transport.policy.base_delay = 0.02
    client._transport.policy.max_delay = 0.2
    return client


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator(calls=1500, seed=7, faults=FaultSettings(default=FAULTS)) as running:
        yield running


def all_rows(emulator: RunningEmulator) -> list[tuple[str, ...]]:
    store = emulator.state.call_store
    return list(store.rows)


def part_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


async def test_every_cdr_exactly_once_under_faults(emulator: RunningEmulator) -> None:
    expected = {row[0] for row in all_rows(emulator)}
    async with fast_client(emulator) as client:
        bulk = Bulk(client)
        ids = [row["id"] async for row in bulk.iter_call_data(page_size=100, **EVERYTHING)]
        assert client.retries_taken > 0  # the faults did happen
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    stats = emulator.stats()
    assert stats["faults"]["Calls.getCallData"]


async def test_export_under_faults_writes_every_row_once(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    expected = {row[0] for row in all_rows(emulator)}
    async with fast_client(emulator) as client:
        bulk = Bulk(client)
        count = await bulk.export_call_data(tmp_path / "calls.csv", page_size=250, **EVERYTHING)
        count_jsonl = await bulk.export_call_data(
            tmp_path / "calls.jsonl", page_size=400, **EVERYTHING
        )
    with (tmp_path / "calls.csv").open(newline="", encoding="utf-8") as handle:
        csv_ids = [row["id"] for row in csv.DictReader(handle)]
    lines = (tmp_path / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    jsonl_ids = [json.loads(line)["id"] for line in lines]
    assert count == count_jsonl == len(expected)
    assert sorted(csv_ids) == sorted(jsonl_ids) == sorted(expected)
    assert part_files(tmp_path) == []


async def test_recordings_byte_identical_under_faults(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    rows = all_rows(emulator)
    recorded = {row[0]: row for row in rows if row[INDEX["has_recording"]] == "1"}
    assert len(recorded) > 100
    dest = tmp_path / "recs"
    async with fast_client(emulator) as client:
        bulk = Bulk(client)
        # Straight from the CDR iterator: calls without a recording are skipped.
        report = await bulk.download_recordings(
            bulk.iter_call_data(page_size=500, **EVERYTHING), dest, concurrency=24
        )
        assert report.counts == {
            "ok": len(recorded),
            "skipped": len(rows) - len(recorded),
            "failed": 0,
            "unknown": 0,
        }
        for call_id, row in recorded.items():
            expected = recording_bytes(7, call_id, int(row[INDEX["talk_time_sec"]]))
            assert (dest / f"{call_id}.mp3").read_bytes() == expected
        assert part_files(tmp_path) == []
        assert sorted(p.stem for p in dest.iterdir()) == sorted(recorded)

        # A second run resumes: everything already there is skipped, nothing fetched.
        before = emulator.requests("Calls.getCallRecording")
        again = await bulk.download_recordings(sorted(recorded), dest, concurrency=24)
        assert again.counts["skipped"] == len(recorded)
        assert emulator.requests("Calls.getCallRecording") == before

        # An id the API says has no recording is skipped as such, not failed.
        missing = next(row[0] for row in rows if row[INDEX["has_recording"]] == "0")
        mixed = await bulk.download_recordings([missing, next(iter(recorded))], tmp_path / "mixed")
        assert [r.status for r in mixed] == ["skipped", "ok"]
        assert mixed[0].reason == "the call has no recording"


async def test_cancelling_mid_download_leaves_no_partial_file(tmp_path: Path) -> None:
    slow = FaultSettings(
        default=FaultSpec(latency_ms=(5.0, 60.0)),
        methods={"Calls.getCallRecording": FaultSpec(latency_ms=(20.0, 200.0))},
    )
    async with run_emulator(calls=900, seed=3, faults=slow) as emulator:
        recorded = [row[0] for row in all_rows(emulator) if row[INDEX["has_recording"]] == "1"]
        async with fast_client(emulator, max_concurrency=16) as client:
            first_done = asyncio.Event()
            task = asyncio.create_task(
                Bulk(client).download_recordings(
                    recorded,
                    tmp_path,
                    concurrency=16,
                    progress=lambda done, total: first_done.set() if done else None,
                )
            )
            await first_done.wait()
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert part_files(tmp_path) == []
            done = list(tmp_path.iterdir())
            assert 0 < len(done) < len(recorded)
            rows = emulator.state.call_store.by_id
            for path in done:  # whatever made it into place is complete
                row = rows[path.stem]
                assert path.read_bytes() == recording_bytes(
                    3, path.stem, int(row[INDEX["talk_time_sec"]])
                )
            assert client._transport.limiter.borrowed_tokens == 0
            connector = client._get_wire()._get_session().connector  # type: ignore[attr-defined]
            await asyncio.sleep(0)
            assert not connector._acquired  # no connection is still checked out


async def test_purchases_under_faults_are_applied_at_most_once() -> None:
    items = [
        {"country_code": 44, "area_code": 20, "number_type": "GEOGRAPHIC", "quantity": 2},
        {"country_code": 44, "area_code": 161, "number_type": "GEOGRAPHIC", "quantity": 1},
        {"country_code": 44, "area_code": 121, "number_type": "GEOGRAPHIC", "quantity": 3},
        {"country_code": 44, "number_type": "TOLLFREE", "area_code": 800, "quantity": 1},
        {"country_code": 34, "area_code": 91, "number_type": "GEOGRAPHIC", "quantity": 2},
        {"country_code": 44, "area_code": 999, "number_type": "GEOGRAPHIC", "quantity": 1},
    ]
    faults = FaultSettings(
        default=FAULTS,
        script={"Purchase.purchaseVoxNumbers": ("drop", "500", "ok", "drop", "503", "ok")},
    )
    async with run_emulator(calls=50, seed=11, faults=faults) as emulator:
        numbers_before = set(emulator.state.voxnumbers)
        async with fast_client(emulator) as client:
            report = await Bulk(client).purchase_numbers(items)
        key = "Purchase.purchaseVoxNumbers"
        assert emulator.requests(key) == len(items)  # each purchase sent exactly once
        applied = emulator.effects(key)
        assert applied == 3  # two dropped after applying, one plain success
        statuses = [r.status for r in report]
        # The 500 and 503 were not applied, but nothing on the account can prove it.
        assert statuses == ["ok", "unknown", "ok", "ok", "unknown", "failed"]
        assert report[0].value is not None and report[0].value.reconciled
        assert report[3].value is not None and report[3].value.reconciled
        assert report[2].value is not None and not report[2].value.reconciled
        assert "still unknown" in (report[1].reason or "")
        assert "is not correct" in (report[5].reason or "")  # a 400, never "unknown"
        new_numbers = set(emulator.state.voxnumbers) - numbers_before
        bought = [n for r in report.succeeded if r.value for n in r.value.numbers]
        assert sorted(bought) == sorted(new_numbers)
        assert len(new_numbers) == 2 + 3 + 1


async def test_dry_run_sends_no_purchase() -> None:
    async with run_emulator(calls=10) as emulator:
        async with emulator.client() as client:
            report = await Bulk(client).purchase_numbers(
                [{"country_code": 44, "area_code": 20, "number_type": "GEOGRAPHIC", "quantity": 1}],
                dry_run=True,
            )
        assert report.counts["skipped"] == 1
        assert emulator.requests("Purchase.purchaseVoxNumbers") == 0
        assert emulator.stats()["total_requests"] == 1  # getVoxnumberRegions, read only
        assert emulator.requests("Purchase.getVoxnumberRegions") == 1
