"""Bulk-engine benchmark: figures and ratios against baselines run alongside.

    python benchmarks/bulk.py            # full run (three interleaved rounds, a few minutes)
    python benchmarks/bulk.py --quick    # a few seconds
    python benchmarks/bulk.py --json     # machine-readable

Three comparisons, each variant in its own subprocess (so its peak RSS, read with
``resource.getrusage`` in the child, is its own) against one loopback HTTP server
(aiohttp.web, in another subprocess) that serves pre-built bodies:

1. CDR export: ``bulk.iter_call_data`` typed rows/s (JSON pages, and XML pages)
   and ``export_call_data`` to CSV, against the obvious hand-written scripts over
   the same server: raw aiohttp + ``json.loads`` on ``output=JSON`` pages (target
   >= 0.8 x) and raw aiohttp + ``ElementTree.fromstring`` on XML pages (target
   >= 3 x); also against ElementTree on pre-fetched bodies (target >= 0.7 x).
   The windowed CSV export against a plain iterator over the same typed JSON pages
   that writes nothing (target >= 1 x), plain paging, and that iterator written to
   the same CSV (both >= 1 x); the same export to JSON lines, and the windowed
   iterator against both plain ones (shown).
2. Recordings: ``bulk.download_recordings`` (500 x 1 MB, concurrency 50) MB/s and
   peak RSS against raw aiohttp streaming to files. Target: >= 0.8 x raw aiohttp,
   peak RSS <= 150 MB.
3. Many small calls at 50 ms server latency: ``bulk.map`` against one call at a
   time. Target: >= 50 x sequential.

The script stops by itself: every child has a deadline and the server is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HERE = Path(__file__).resolve()
CHILD_DEADLINE = 180.0

# -- the server ------------------------------------------------------------------------


CALLS_FROM = datetime.datetime(2026, 1, 1)
"""Call ``n`` starts ``n`` seconds after this, so a date range is a range of ``n``."""


def cdr_page(
    page: int,
    limit: int,
    total: int,
    span: tuple[int, int] | None = None,
    newest: bool = False,
    output: str = "XML",
) -> bytes:
    """One getCallData page, as the API shapes it (every value a string).

    ``span`` is the ``(first, last)`` call numbers an sdt/edt range selects (all by
    default); ``newest`` orders newest first; with ``output="JSON"`` the same page as
    JSON (empty elements as ``""``).
    """
    low, high = span if span is not None else (0, total - 1)
    matched = max(0, high - low + 1)
    pages = max(1, -(-matched // limit))
    offset = (page - 1) * limit
    picked = range(offset, min(offset + limit, matched))
    numbers = [high - i for i in picked] if newest else [low + i for i in picked]
    rows = []
    for n in numbers:
        start = CALLS_FROM + datetime.timedelta(seconds=n)
        values = {
            "id": f"{900000 + n}",
            "call_start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "call_end": f"2026-10-{1 + n % 28:02d} {n % 24:02d}:{(n + 3) % 60:02d}:00",
            "call_origin": f"4479661{n % 100000:05d}",
            "call_origin_encoded": f"4479_{n:016X}",
            "call_origin_location": "LONDON",
            "voxnumber": f"44203{n % 1000:07d}",
            "call_destination": "447966123456",
            "detail": "",
            "call_time": "00:03:00",
            "call_time_sec": "180",
            "talk_time": "00:02:40",
            "talk_time_sec": "160",
            "call_type": "DIRECT",
            "call_result": "ANSWERED",
            "rule_result": "Call to an Operator",
            "node_id": f"N{n % 40}",
            "node_name": f"Shop {n % 40}",
            "node_type": "SHOP",
            "link_id": f"L{n % 80}",
            "link_name": f"Link {n % 80}",
            "link_type": "PPC",
            "has_recording": str(n % 2),
            "email_sent": "0",
            "direction": "IN",
        }
        rows.append(values)
    if output == "JSON":
        envelope = {"current_page": str(page), "total_pages": str(pages)}
        envelope["total_results"] = str(matched)
        return json.dumps({"response": {**envelope, "results": {"result": rows}}}).encode()
    xml_rows = [
        "<result>"
        + "".join(f"<{k}>{v}</{k}>" if v else f"<{k}/>" for k, v in values.items())
        + "</result>"
        for values in rows
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<response>'
        f"<current_page>{page}</current_page><total_pages>{pages}</total_pages>"
        f"<total_results>{matched}</total_results><results>{''.join(xml_rows)}</results></response>"
    ).encode()


def call_span(query: dict[str, str], total: int) -> tuple[int, int]:
    """The call numbers ``sdt``..``edt`` select (both ends included)."""

    def number(text: str, time: str) -> int:
        text = text if len(text) > 10 else f"{text} {time}"
        moment = datetime.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
        return int((moment - CALLS_FROM).total_seconds())

    low = max(0, number(query["sdt"], "00:00:00")) if "sdt" in query else 0
    high = min(total - 1, number(query["edt"], "23:59:59")) if "edt" in query else total - 1
    return low, high


class _Server(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 server for GETs with pre-built answers.

    Lighter than any framework, so the machine's CPU goes to the client under test.
    """

    def __init__(self, args: argparse.Namespace, cache: dict[Any, bytes]) -> None:
        self.args = args
        self.cache = cache
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode()
            self.answer(dict(parse_qsl(urlsplit(target).query)))

    def answer(self, query: dict[str, str]) -> None:
        method = query.get("method")
        if method == "getCallData":
            span = call_span(query, self.args.cdrs)
            newest = query.get("order") == "cs_DESC"
            output = query.get("output", "XML")
            key = (int(query["page"]), int(query["limit"]), span, newest, output)
            body = self.cache.get(key)
            if body is None:
                body = cdr_page(key[0], key[1], self.args.cdrs, span, newest, output)
                if self.args.cdrs <= 200_000:  # a million rows' pages would not fit
                    self.cache[key] = body
            self.send(body, "application/json" if output == "JSON" else "text/xml")
        elif method == "getCallRecording":
            self.send(self.cache["recording"], "audio/mpeg")
        elif method == "getCallMetrics":
            body = b'<?xml version="1.0"?><response><results><result><tc>1</tc></result>'
            body += b"</results></response>"
            loop = asyncio.get_running_loop()
            loop.call_later(self.args.latency / 1000, self.send, body, "text/xml")
        else:
            self.send(b"", "text/plain", status=b"404 Not Found")

    def send(self, body: bytes, kind: str, status: bytes = b"200 OK") -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
            status,
            kind.encode(),
            len(body),
        )
        self.transport.writelines((head, body))


def serve(args: argparse.Namespace) -> None:
    async def main() -> None:
        cache: dict[Any, bytes] = {"recording": os.urandom(args.recording_size)}
        # The whole range's pages are built before the first request, so no variant pays
        # for them (windows' pages are built on first use).
        span = (0, args.cdrs - 1)
        for number in range(1, max(1, -(-args.cdrs // args.page_size)) + 1):
            for output in ("XML", "JSON"):
                if args.cdrs > 200_000:
                    break
                key = (number, args.page_size, span, False, output)
                cache[key] = cdr_page(number, args.page_size, args.cdrs, span, False, output)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Server(args, cache), "127.0.0.1", 0, backlog=2048
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(CHILD_DEADLINE * 4)

    asyncio.run(main())


# -- the variants (each runs in a child process) -------------------------------------


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def client(base: str, concurrency: int) -> Any:
    from iovox_async import AsyncIovox
    from iovox_async.bulk import Bulk

    iovox = AsyncIovox("bench", "bench-key", base_url=base, max_concurrency=concurrency)
    return iovox, getattr(iovox, "bulk", None) or Bulk(iovox)


async def fetch_bodies(base: str, cdrs: int, page_size: int) -> list[bytes]:
    import aiohttp

    pages = max(1, -(-cdrs // page_size))
    async with aiohttp.ClientSession() as session:

        async def one(page: int) -> bytes:
            params = {"v": "3", "method": "getCallData", "page": page, "limit": page_size}
            async with session.get(f"{base}/Calls", params=params) as response:
                return await response.read()

        return list(await asyncio.gather(*(one(p) for p in range(1, pages + 1))))


RAW_PAGES_IN_FLIGHT = 5
"""Pages a hand-written script fetches at once: as many as ``bulk.iter_call_data``
holds by default (the page being read plus ``prefetch`` = 4 ahead)."""


async def raw_pages(base: str, args: argparse.Namespace, output: str) -> int:
    """The obvious script: raw aiohttp pages, parsed with the standard library, rows
    counted (JSON: ``json.loads``; XML: ``ElementTree.fromstring``, a dict per row)."""
    import xml.etree.ElementTree as ET

    import aiohttp

    pages = max(1, -(-args.cdrs // args.page_size))
    gate = asyncio.Semaphore(RAW_PAGES_IN_FLIGHT)
    async with aiohttp.ClientSession() as session:

        async def one(page: int) -> int:
            params = {"v": "3", "method": "getCallData", "page": page, "limit": args.page_size}
            if output == "JSON":
                params["output"] = "JSON"
            async with gate, session.get(f"{base}/Calls", params=params) as response:
                body = await response.read()
            if output == "JSON":
                return len(json.loads(body)["response"]["results"]["result"])
            root = ET.fromstring(body)
            return sum(1 for result in root.iter("result") if {c.tag: c.text for c in result})

        return sum(await asyncio.gather(*(one(p) for p in range(1, pages + 1))))


class LoopTicker:
    """A task that wakes every 5 ms while the block runs: ``longest`` is the longest
    time between two wake-ups beyond those 5 ms, the longest the event loop was blocked."""

    PERIOD = 0.005

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.PERIOD)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - self.PERIOD)
            last = now

    async def __aenter__(self) -> LoopTicker:
        self._task = asyncio.ensure_future(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def variant(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one variant ``args.repeat`` times after a warm-up; keep the best run."""
    best: dict[str, Any] | None = None
    for attempt in range(args.repeat + 1):
        figures = await run_once(name, args, warm_up=attempt == 0)
        if attempt and (best is None or figures["seconds"] < best["seconds"]):
            best = figures
    assert best is not None
    return best


async def run_once(name: str, args: argparse.Namespace, *, warm_up: bool) -> dict[str, Any]:
    base = args.base
    if warm_up:  # imports, TLS context, first connections: not what is measured
        args = argparse.Namespace(**{**vars(args), "recordings": 2})
        args.sequential = args.calls = 2
    if name == "cdr-elementtree":
        import xml.etree.ElementTree as ET

        bodies = await fetch_bodies(base, args.cdrs, args.page_size)
        started = time.perf_counter()
        rows = 0
        for body in bodies:
            root = ET.fromstring(body)
            for result in root.iter("result"):
                row = {child.tag: child.text for child in result}
                rows += 1 if row else 0
        elapsed = time.perf_counter() - started
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name in ("cdr-aiohttp-json", "cdr-aiohttp-xml"):
        output = "JSON" if name.endswith("json") else "XML"
        await raw_pages(base, argparse.Namespace(cdrs=1, page_size=1), output)  # connect
        started = time.perf_counter()
        rows = await raw_pages(base, args, output)
        elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name == "cdr-client-decoder":
        # The client's own XML decoder on the same bodies (a private function): the
        # ceiling for any iterator built on the client.
        from iovox_async._catalog import METHODS
        from iovox_async._convert import shape_for
        from iovox_async._decode import decode_body

        shape = shape_for(METHODS["Calls"]["getCallData"])
        bodies = await fetch_bodies(base, args.cdrs, args.page_size)
        started = time.perf_counter()
        rows = 0
        for body in bodies:
            page = await decode_body(body, "text/xml", shape=shape)
            rows += len(page["results"]["result"])
        elapsed = time.perf_counter() - started
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name in ("cdr-bulk-iter", "cdr-bulk-iter-xml"):
        # The default asks for JSON pages; "-xml" keeps the API's default format.
        formats = {"output": "XML"} if name.endswith("xml") else {}
        iovox, bulk = client(base, 16)
        async with iovox:
            await iovox.calls.get_call_data(page=1, limit=1)
            ticker = LoopTicker()
            started = time.perf_counter()
            rows = 0
            async with ticker:
                async for _ in bulk.iter_call_data(page_size=args.page_size, **formats):
                    rows += 1
            elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {
            "rows": rows,
            "seconds": elapsed,
            "rows_per_s": rows / elapsed,
            "loop_block_ms": round(ticker.longest * 1000, 1),
        }
    if name == "cdr-plain-paging":
        # What iter_call_data did before windows: offset pages, prefetch ahead, no pinning.
        iovox, _ = client(base, 16)
        async with iovox:
            await iovox.calls.get_call_data(page=1, limit=1)
            started = time.perf_counter()
            rows = await plain_paging(iovox, args.page_size)
            elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name == "cdr-plain-iter":
        # The plain iterator a user would write over the same pages: offset pages
        # fetched ahead, every row handed out by an async generator (as the windowed
        # iterator hands out its rows), no pinning and no de-duplication.
        iovox, _ = client(base, 16)
        async with iovox:
            await iovox.calls.get_call_data(page=1, limit=1)
            started = time.perf_counter()
            rows = 0
            async for _ in plain_rows(iovox, args.page_size):
                rows += 1
            elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name == "cdr-plain-export":
        # The same CSV written from plain offset paging: what an export was before windows.
        from iovox_async.bulk.cdrs import write_rows

        iovox, _ = client(base, 16)
        with tempfile.TemporaryDirectory() as folder:
            async with iovox:
                await iovox.calls.get_call_data(page=1, limit=1)
                started = time.perf_counter()
                rows = await write_rows(
                    plain_rows(iovox, args.page_size), Path(folder) / "calls.csv"
                )
                elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name in ("cdr-bulk-export", "cdr-bulk-export-jsonl"):
        iovox, bulk = client(base, 16)
        suffix = ".jsonl" if name.endswith("jsonl") else ".csv"
        with tempfile.TemporaryDirectory() as folder:
            async with iovox:
                await iovox.calls.get_call_data(page=1, limit=1)
                started = time.perf_counter()
                rows = await bulk.export_call_data(
                    Path(folder) / f"calls{suffix}", page_size=args.page_size
                )
                elapsed = time.perf_counter() - started
        assert rows == args.cdrs, rows
        return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}
    if name in ("rec-aiohttp", "rec-bulk"):
        folder = Path(tempfile.mkdtemp(prefix="iovox-bench-"))
        try:
            ids = [str(100000 + n) for n in range(args.recordings)]
            if name == "rec-aiohttp":
                started = time.perf_counter()
                total = await raw_downloads(base, ids, folder, args.concurrency)
                elapsed = time.perf_counter() - started
            else:
                iovox, bulk = client(base, args.concurrency)
                async with iovox:
                    await iovox.calls.get_call_metrics()
                    started = time.perf_counter()
                    report = await bulk.download_recordings(
                        ids, folder, concurrency=args.concurrency
                    )
                    elapsed = time.perf_counter() - started
                assert report.all_ok, report.to_dict()
                total = sum(r.size for r in report.values())
            assert total == args.recordings * args.recording_size, total
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"bytes": total, "seconds": elapsed, "mb_per_s": total / 1e6 / elapsed}
    if name == "calls-sequential":
        iovox, _ = client(base, 1)
        async with iovox:
            await iovox.calls.get_call_metrics()
            started = time.perf_counter()
            for _ in range(args.sequential):
                await iovox.calls.get_call_metrics()
            elapsed = time.perf_counter() - started
        rate = args.sequential / elapsed
        return {"calls": args.sequential, "seconds": elapsed, "calls_per_s": rate}
    if name == "calls-bulk-map":
        iovox, bulk = client(base, args.map_concurrency)
        async with iovox:

            async def one(_: int) -> Any:
                return await iovox.calls.get_call_metrics()

            # Open the pool's connections first: raw set-up is not what is measured.
            await bulk.map(one, range(args.map_concurrency), concurrency=args.map_concurrency)
            started = time.perf_counter()
            report = await bulk.map(one, range(args.calls), concurrency=args.map_concurrency)
            elapsed = time.perf_counter() - started
        assert report.all_ok, report.summary()
        return {"calls": args.calls, "seconds": elapsed, "calls_per_s": args.calls / elapsed}
    raise SystemExit(f"unknown variant {name}")


async def raw_downloads(base: str, ids: list[str], folder: Path, concurrency: int) -> int:
    """The baseline: plain aiohttp, streamed to files in 64 KiB chunks."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(call_id: str) -> int:
            params = {"v": "3", "method": "getCallRecording", "id": call_id}
            written = 0
            async with gate, session.get(f"{base}/Calls", params=params) as response:
                with (folder / f"{call_id}.mp3").open("wb") as handle:
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        handle.write(chunk)
                        written += len(chunk)
            return written

        return sum(await asyncio.gather(*(one(i) for i in ids)))


async def plain_rows(iovox: Any, page_size: int, prefetch: int = 4) -> Any:
    """The rows of :func:`plain_paging`, one by one."""
    from iovox_async._paging import page_count
    from iovox_async.bulk.cdrs import fetch_page, page_rows

    first = await fetch_page(iovox, page=1, limit=page_size)
    pages = page_count(first, page_size)
    pending: list[asyncio.Task[Any]] = []
    for number in range(2, min(pages, 1 + prefetch) + 1):
        pending.append(asyncio.ensure_future(fetch_page(iovox, page=number, limit=page_size)))
    following = iter(range(2 + len(pending), pages + 1))
    page = first
    while True:
        for row in page_rows(page):
            yield row
        if not pending:
            return
        page = await pending.pop(0)
        number = next(following, None)
        if number is not None:
            pending.append(asyncio.ensure_future(fetch_page(iovox, page=number, limit=page_size)))


async def plain_paging(iovox: Any, page_size: int, prefetch: int = 4) -> int:
    """Rows of every page of the whole range, ``prefetch`` pages fetched ahead: the
    same typed JSON pages the windowed iterator reads (``fetch_page``)."""
    from iovox_async._paging import page_count
    from iovox_async.bulk.cdrs import fetch_page, page_rows

    first = await fetch_page(iovox, page=1, limit=page_size)
    pages = page_count(first, page_size)
    rows = len(page_rows(first))
    pending: list[asyncio.Task[Any]] = []
    following = iter(range(2, pages + 1))
    for number in following:
        pending.append(asyncio.ensure_future(fetch_page(iovox, page=number, limit=page_size)))
        if len(pending) >= prefetch:
            rows += sum(1 for _ in page_rows(await pending.pop(0)))
    for task in pending:
        rows += sum(1 for _ in page_rows(await task))
    return rows


# -- the million-CDR export: memory bounded by the window and page sizes --------------


def million_export(base: str, args: argparse.Namespace) -> dict[str, Any]:
    """``export_call_data`` of ``args.million`` CDRs to CSV in a child; its peak RSS."""
    command = [
        sys.executable, str(HERE), "--child", "cdr-million-export", "--base", base,
        *(f"--{k.replace('_', '-')}={getattr(args, k)}" for k in SIZES),
        "--repeat=0",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_DEADLINE * 4, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the million-CDR export failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


async def export_everything(base: str, args: argparse.Namespace) -> dict[str, Any]:
    iovox, bulk = client(base, 16)
    with tempfile.TemporaryDirectory() as folder:
        async with iovox:
            started = time.perf_counter()
            rows = await bulk.export_call_data(Path(folder) / "calls.csv", page_size=args.page_size)
            elapsed = time.perf_counter() - started
            size = (Path(folder) / "calls.csv").stat().st_size
    assert rows == args.cdrs, rows
    return {"rows": rows, "bytes": size, "seconds": elapsed, "rows_per_s": rows / elapsed}


# -- the driver ------------------------------------------------------------------------


def run_child(name: str, args: argparse.Namespace, base: str) -> dict[str, Any]:
    command = [
        sys.executable, str(HERE), "--child", name, "--base", base,
        *(f"--{k.replace('_', '-')}={getattr(args, k)}" for k in SIZES),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_DEADLINE, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"variant {name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


SIZES = ("cdrs", "page_size", "recordings", "recording_size", "concurrency", "latency",
         "sequential", "calls", "map_concurrency", "repeat")  # fmt: skip


VARIANTS = (
    "cdr-elementtree", "cdr-client-decoder", "cdr-aiohttp-json", "cdr-aiohttp-xml",
    "cdr-plain-paging", "cdr-plain-iter", "cdr-bulk-iter", "cdr-bulk-iter-xml",
    "cdr-plain-export",
    "cdr-bulk-export", "cdr-bulk-export-jsonl",
    "rec-aiohttp", "rec-bulk", "calls-sequential", "calls-bulk-map",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--cdrs", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--recordings", type=int, default=500)
    parser.add_argument("--recording-size", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=50.0, help="ms, small-call server delay")
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--map-concurrency", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per child (best kept)")
    parser.add_argument(
        "--million",
        type=int,
        nargs="?",
        const=1_000_000,
        default=0,
        help="also export this many CDRs (1,000,000 if no number) to CSV against a server of"
        " its own and report the export's peak RSS (target <= 200 MB); about a minute",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="passes over all variants, interleaved so drift in the machine's load hits"
        " each variant alike (the best of all runs is kept)",
    )
    parser.add_argument(
        "--only", default="", help="run only the variants starting with these (comma-separated)"
    )
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return
    if args.child == "cdr-million-export":
        figures = asyncio.run(export_everything(args.base, args))
        figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(figures))
        return
    if args.child:
        figures = asyncio.run(variant(args.child, args))
        figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(figures))
        return
    if args.quick:
        args.cdrs, args.recordings, args.sequential, args.calls = 20_000, 100, 30, 1500
        args.rounds = 1
    server = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", *(f"--{k.replace('_', '-')}={getattr(args, k)}"
         for k in SIZES)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        results: dict[str, dict[str, Any]] = {}
        for round_number in range(1, args.rounds + 1):
            for name in [v for v in VARIANTS if v.startswith(tuple(args.only.split(",")))]:
                figures = run_child(name, args, base)
                if not args.json:
                    print(f"{round_number} {name:18} {json.dumps(figures)}", flush=True)
                best = results.get(name)
                if best is None or figures["seconds"] < best["seconds"]:
                    peak = max(figures["peak_rss_mb"], best["peak_rss_mb"] if best else 0.0)
                    results[name] = {**figures, "peak_rss_mb": peak}
                else:
                    best["peak_rss_mb"] = max(best["peak_rss_mb"], figures["peak_rss_mb"])
                if best is not None and "loop_block_ms" in figures:  # the worst of all runs
                    worst = max(figures["loop_block_ms"], best["loop_block_ms"])
                    results[name]["loop_block_ms"] = worst
    finally:
        server.kill()
        server.wait()
    if args.million:
        results["cdr-million-export"] = run_million(args)
    report(args, results)


def run_million(args: argparse.Namespace) -> dict[str, Any]:
    """The million-CDR export against a server of its own (that one caches no pages)."""
    sized = argparse.Namespace(**{**vars(args), "cdrs": args.million})
    server = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", *(f"--{k.replace('_', '-')}={getattr(sized, k)}"
         for k in SIZES)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        figures = million_export(base, sized)
    finally:
        server.kill()
        server.wait()
    if not args.json:
        print(f"million {json.dumps(figures)}", flush=True)
    return figures


def report(args: argparse.Namespace, r: dict[str, dict[str, Any]]) -> None:
    if args.only:
        print(json.dumps(r, indent=2))
        return
    et = r["cdr-elementtree"]["rows_per_s"]
    ratios = {
        "cdr_iter_vs_aiohttp_json_loads": r["cdr-bulk-iter"]["rows_per_s"]
        / r["cdr-aiohttp-json"]["rows_per_s"],
        "cdr_iter_vs_aiohttp_elementtree": r["cdr-bulk-iter"]["rows_per_s"]
        / r["cdr-aiohttp-xml"]["rows_per_s"],
        "cdr_iter_xml_vs_aiohttp_elementtree": r["cdr-bulk-iter-xml"]["rows_per_s"]
        / r["cdr-aiohttp-xml"]["rows_per_s"],
        "cdr_iter_vs_elementtree": r["cdr-bulk-iter"]["rows_per_s"] / et,
        "cdr_export_csv_vs_elementtree": r["cdr-bulk-export"]["rows_per_s"] / et,
        "cdr_client_decoder_vs_elementtree": r["cdr-client-decoder"]["rows_per_s"] / et,
        "cdr_iter_vs_client_decoder": r["cdr-bulk-iter"]["rows_per_s"]
        / r["cdr-client-decoder"]["rows_per_s"],
        "cdr_windowed_iter_vs_plain_paging": r["cdr-bulk-iter"]["rows_per_s"]
        / r["cdr-plain-paging"]["rows_per_s"],
        "cdr_windowed_iter_vs_plain_iter": r["cdr-bulk-iter"]["rows_per_s"]
        / r["cdr-plain-iter"]["rows_per_s"],
        "cdr_windowed_export_vs_plain_paging": r["cdr-bulk-export"]["rows_per_s"]
        / r["cdr-plain-paging"]["rows_per_s"],
        "cdr_windowed_export_vs_iter": r["cdr-bulk-export"]["rows_per_s"]
        / r["cdr-bulk-iter"]["rows_per_s"],
        "cdr_windowed_export_vs_plain_iter": r["cdr-bulk-export"]["rows_per_s"]
        / r["cdr-plain-iter"]["rows_per_s"],
        "cdr_windowed_export_vs_plain_export": r["cdr-bulk-export"]["rows_per_s"]
        / r["cdr-plain-export"]["rows_per_s"],
        "cdr_windowed_jsonl_export_vs_plain_iter": r["cdr-bulk-export-jsonl"]["rows_per_s"]
        / r["cdr-plain-iter"]["rows_per_s"],
        "recordings_vs_aiohttp": r["rec-bulk"]["mb_per_s"] / r["rec-aiohttp"]["mb_per_s"],
        "bulk_map_vs_sequential": r["calls-bulk-map"]["calls_per_s"]
        / r["calls-sequential"]["calls_per_s"],
    }
    targets = {
        "cdr_iter_vs_aiohttp_json_loads": 0.8,
        "cdr_iter_vs_aiohttp_elementtree": 3.0,
        "cdr_iter_vs_elementtree": 0.7,
        "cdr_windowed_export_vs_plain_iter": 1.0,
        "cdr_windowed_export_vs_plain_paging": 1.0,
        "cdr_windowed_export_vs_plain_export": 1.0,
        "recordings_vs_aiohttp": 0.8,
        "bulk_map_vs_sequential": 50.0,
    }
    rss_ok = r["rec-bulk"]["peak_rss_mb"] <= 150
    if args.json:
        print(json.dumps({"figures": r, "ratios": ratios, "targets": targets}, indent=2))
        return
    print()
    print(f"CDRs ({args.cdrs} rows, pages of {args.page_size}):")
    print(f"  ElementTree decode only   {et:12,.0f} rows/s")
    for name, label in (
        ("cdr-client-decoder", "client decoder only"),
        ("cdr-aiohttp-json", "aiohttp + json.loads"),
        ("cdr-aiohttp-xml", "aiohttp + ET.fromstring"),
        ("cdr-plain-paging", "plain offset paging"),
        ("cdr-plain-iter", "plain iterator (rows)"),
        ("cdr-bulk-iter", "bulk.iter_call_data"),
        ("cdr-bulk-iter-xml", "iter_call_data (XML)"),
        ("cdr-plain-export", "plain paging to CSV"),
        ("cdr-bulk-export", "export CSV (windowed)"),
        ("cdr-bulk-export-jsonl", "export JSON lines"),
    ):
        print(f"  {label:25} {r[name]['rows_per_s']:12,.0f} rows/s")
    mb = args.recording_size / 1e6
    print(f"Recordings ({args.recordings} x {mb:g} MB, concurrency {args.concurrency}):")
    for name, label in (("rec-aiohttp", "raw aiohttp"), ("rec-bulk", "bulk.download_recordings")):
        figures = r[name]
        print(
            f"  {label:25} {figures['mb_per_s']:9,.0f} MB/s  peak RSS {figures['peak_rss_mb']} MB"
        )
    print(f"Small calls at {args.latency:g} ms latency:")
    print(f"  one at a time             {r['calls-sequential']['calls_per_s']:9,.1f} calls/s")
    print(
        f"  bulk.map ({args.map_concurrency:>3})            "
        f"{r['calls-bulk-map']['calls_per_s']:9,.1f} calls/s"
    )
    print("Ratios (target):")
    for key, value in ratios.items():
        target = targets.get(key)
        verdict = "" if target is None else ("ok" if value >= target else "BELOW TARGET")
        shown = f">= {target:g}" if target is not None else "-"
        print(f"  {key:36} {value:7.2f}  ({shown}) {verdict}")
    print(f"  recordings peak RSS <= 150 MB        {'ok' if rss_ok else 'ABOVE TARGET'}")
    for name in ("cdr-bulk-iter", "cdr-bulk-iter-xml"):
        block = r[name]["loop_block_ms"]
        verdict = "ok" if block <= 50 else "ABOVE TARGET"
        print(f"  {name} event loop blocked at most {block} ms (<= 50 ms) {verdict}")
    million = r.get("cdr-million-export")
    if million is not None:
        verdict = "ok" if million["peak_rss_mb"] <= 200 else "ABOVE TARGET"
        print(
            f"  export of {million['rows']:,} CDRs: peak RSS {million['peak_rss_mb']} MB"
            f" (<= 200 MB) {verdict}, {million['rows_per_s']:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
