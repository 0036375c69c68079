"""download_recordings over a fake getCallRecording."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from iovox_async import ServerError, ValidationError
from iovox_async.bulk import Recording, safe_filename

from .conftest import MakeBulk, error, method_of


def audio(call_id: str, size: int = 3000) -> bytes:
    seed = hashlib.sha256(call_id.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


class SlowStream(httpx.AsyncByteStream):
    def __init__(self, body: bytes, pause: float) -> None:
        self.body = body
        self.pause = pause
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), 1000):
            await asyncio.sleep(self.pause)
            yield self.body[start : start + 1000]

    async def aclose(self) -> None:
        self.closed = True


class FakeRecordings:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.missing: set[str] = set()
        self.short: set[str] = set()
        self.slow: float | None = None
        self.streams: list[SlowStream] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert method_of(request) == "getCallRecording"
        call_id = request.url.params["id"]
        self.requests.append(call_id)
        if call_id in self.missing:
            return error(404, "Recording not found")
        body = audio(call_id)
        headers = {"content-type": "audio/mpeg", "content-length": str(len(body))}
        if call_id in self.short:
            return httpx.Response(200, headers=headers, content=body[:100])
        if self.slow is not None:
            stream = SlowStream(body, self.slow)
            self.streams.append(stream)
            return httpx.Response(200, headers=headers, stream=stream)
        return httpx.Response(200, headers=headers, content=body)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


async def test_downloads_ids_and_cdrs(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    _, bulk = make_bulk(fake)
    items = [f"c{n}" for n in range(30)] + [{"id": "c30", "has_recording": "1"}, {"id": 31}]
    seen: list[int] = []
    report = await bulk.download_recordings(
        items, tmp_path / "recs", concurrency=5, progress=lambda d, t: seen.append(d)
    )
    assert report.counts["ok"] == 32 and report.all_ok
    assert seen[-1] == 32
    for n in range(32):
        path = tmp_path / "recs" / f"c{n}.mp3" if n < 31 else tmp_path / "recs" / "31.mp3"
        assert path.read_bytes() == audio(path.stem)
    recording = report[0].value
    assert isinstance(recording, Recording)
    assert recording.size == 3000 and recording.call_id == "c0"
    assert report[0].item == "c0"
    assert leftovers(tmp_path / "recs") == []


async def test_existing_files_no_recording_and_duplicates_are_skipped(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    fake = FakeRecordings()
    _, bulk = make_bulk(fake)
    (tmp_path / "a.mp3").write_bytes(b"already here")
    (tmp_path / "b.mp3").write_bytes(b"")  # an empty file is not a complete recording
    items = ["a", "b", {"id": "c", "has_recording": "0"}, "d", "d"]
    report = await bulk.download_recordings(items, tmp_path)
    assert [r.status for r in report] == ["skipped", "ok", "skipped", "ok", "skipped"]
    assert report[0].reason == "already on disk"
    assert report[2].reason == "the call has no recording"
    assert report[4].reason == "duplicate of item 3"
    assert sorted(fake.requests) == ["b", "d"]
    assert (tmp_path / "a.mp3").read_bytes() == b"already here"
    again = await bulk.download_recordings(["a", "b", "d"], tmp_path, overwrite=True)
    assert again.counts["ok"] == 3
    assert (tmp_path / "a.mp3").read_bytes() == audio("a")


async def test_names_from_server_data_cannot_escape(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    _, bulk = make_bulk(fake)
    dest = tmp_path / "dest"
    evil = ["../../escape", "/etc/passwd", "..", ".hidden", "a b\\c", "x" * 300, "ok-1.2_3"]
    report = await bulk.download_recordings(evil, dest)
    assert report.all_ok, report.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    names = sorted(p.name for p in dest.iterdir())
    assert len(names) == len(evil)
    assert all(not n.startswith(".") and "/" not in n and len(n) < 130 for n in names)
    assert "ok-1.2_3.mp3" in names
    assert safe_filename("a/b") != safe_filename("a_b")
    for result in report:
        assert isinstance(result.value, Recording)
        assert result.value.path.parent == dest
        assert result.value.path.read_bytes() == audio(result.item)


async def test_failures_are_reported_per_item(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    fake.missing = {"m"}
    fake.short = {"s"}
    _, bulk = make_bulk(fake, max_retries=2)
    report = await bulk.download_recordings(["a", "m", "s", "", {"nope": 1}, "b"], tmp_path)
    assert [r.status for r in report] == ["ok", "failed", "failed", "failed", "failed", "ok"]
    assert "Recording not found" in (report[1].reason or "")
    assert "body ended after 100 of 3000 bytes" in (report[2].reason or "")
    assert fake.requests.count("s") == 3
    assert "ValidationError" in (report[3].reason or "")
    assert report[4].item == "{'nope': 1}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp3", "b.mp3"]
    with pytest.raises(ValidationError):
        await bulk.download_recordings(["a"], tmp_path, suffix="../x")


async def test_cancelling_leaves_no_partial_files(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    fake.slow = 0.03
    client, bulk = make_bulk(fake)
    task = asyncio.create_task(
        bulk.download_recordings([f"r{n}" for n in range(20)], tmp_path, concurrency=4)
    )
    await asyncio.sleep(0.15)
    assert leftovers(tmp_path)  # downloads are under way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(tmp_path) == []
    for path in tmp_path.iterdir():  # only complete recordings made it into place
        assert path.read_bytes() == audio(path.stem)
    assert client._transport.limiter.borrowed_tokens == 0
    assert fake.streams and all(stream.closed for stream in fake.streams)


async def test_an_async_iterable_of_cdrs(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    _, bulk = make_bulk(fake)

    async def cdrs() -> AsyncIterator[dict[str, str]]:
        for n in range(6):
            yield {"id": f"x{n}", "has_recording": str(n % 2)}

    report = await bulk.download_recordings(cdrs(), tmp_path)
    assert report.counts == {"ok": 3, "skipped": 3, "failed": 0, "unknown": 0}
    assert sorted(fake.requests) == ["x1", "x3", "x5"]
    # The report names each call by its id; it does not keep the CDRs alive.
    assert [result.item for result in report] == [f"x{n}" for n in range(6)]


async def test_downloads_start_while_the_source_is_still_read(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    fake = FakeRecordings()
    events: list[str] = []
    original = fake.__call__

    async def handler(request: httpx.Request) -> httpx.Response:
        events.append("download")
        return await original(request)

    _, bulk = make_bulk(handler)

    async def cdrs() -> AsyncIterator[dict[str, str]]:
        for n in range(10):
            events.append("cdr")
            await asyncio.sleep(0.005)
            yield {"id": f"p{n}", "has_recording": "1"}

    report = await bulk.download_recordings(cdrs(), tmp_path, concurrency=2)
    assert report.counts["ok"] == 10
    assert events.index("download") < len(events) - 1 - events[::-1].index("cdr")


async def test_a_failing_source_raises_its_own_error(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeRecordings()
    _, bulk = make_bulk(fake)

    async def cdrs() -> AsyncIterator[str]:
        yield "a"
        raise ServerError(500, [], interface="Calls", method="getCallData")

    with pytest.raises(ServerError):
        await bulk.download_recordings(cdrs(), tmp_path)
    assert leftovers(tmp_path) == []


def test_downloads_and_map_run_under_trio(tmp_path: Path) -> None:
    import anyio

    from iovox_async import AsyncIovox
    from iovox_async.bulk import Bulk

    async def main() -> tuple[dict[str, int], list[int]]:
        fake = FakeRecordings()
        http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        async with AsyncIovox("u", "k", base_url="https://api.test", http_client=http) as client:
            bulk = Bulk(client)
            report = await bulk.download_recordings(["t1", "t2", "t3"], tmp_path, concurrency=2)

            async def double(n: int) -> int:
                await anyio.lowlevel.checkpoint()
                return 2 * n

            doubled = await bulk.map(double, [1, 2, 3])
        await http.aclose()
        return report.counts, doubled.values()

    counts, values = anyio.run(main, backend="trio")
    assert counts["ok"] == 3 and values == [2, 4, 6]
    assert (tmp_path / "t2.mp3").read_bytes() == audio("t2")
