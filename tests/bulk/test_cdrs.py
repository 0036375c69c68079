"""iter_call_data and export_call_data over a fake paged getCallData."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import anyio
import httpx
import pytest

from iovox_async import ServerError, ValidationError
from iovox_async._paging import page_count as _page_count
from iovox_async.bulk.cdrs import CDR_FIELDS

from .conftest import MakeBulk, error, method_of, xml

CDRS = [
    {
        "id": f"c{n:05d}",
        "call_start": f"2026-10-01 00:{n // 60 % 60:02d}:{n % 60:02d}",
        "call_origin": f"4479{n:08d}",
        "call_result": "ANSWERED" if n % 3 else "NO ANSWER",
        "has_recording": str(n % 2),
        "node_name": "Shop & <Co>" if n == 7 else f"node {n % 5}",
    }
    for n in range(1234)
]


def render_page(rows: list[dict[str, Any]], page: int, pages: int, total: int) -> httpx.Response:
    parts = []
    for row in rows:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in row.items())
        cats = (
            "<categories><category><category_id>9</category_id><label>L</label>"
            "<value>V</value></category></categories>"
        )
        parts.append(f"<result>{fields}{cats}</result>")
    return xml(
        f"<response><current_page>{page}</current_page><total_pages>{pages}</total_pages>"
        f"<total_results>{total}</total_results><results>{''.join(parts)}</results></response>"
    )


class FakeCalls:
    """Serves CDRS in pages; counts requests and concurrency."""

    def __init__(self, rows: list[dict[str, Any]] = CDRS, delay: float = 0.002) -> None:
        self.rows = rows
        self.delay = delay
        self.requests: list[dict[str, str]] = []
        self.running = 0
        self.peak = 0
        self.cancelled = 0
        self.fail_pages: dict[int, int] = {}
        self.grow_on_page: int | None = None
        self.slow_page: int | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert method_of(request) == "getCallData"
        params = dict(request.url.params)
        self.requests.append(params)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await anyio.sleep(self.delay)  # anyio: the fake also serves under trio
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        page, limit = int(params["page"]), int(params["limit"])
        if page == self.slow_page and limit > 1:
            await anyio.sleep(0.05)  # answered after the page behind it
        if self.fail_pages.get(page, 0) > 0 and limit > 1:
            self.fail_pages[page] -= 1
            return error(500, "Internal Server Error")
        if page == self.grow_on_page and limit > 1:
            # a call lands at the top of the newest-first order: the rows shift by one
            self.grow_on_page = None
            self.rows = [*self.rows, {**self.rows[-1], "id": "late"}]
        rows = self.matching(params)
        total = len(rows)
        pages = max(math.ceil(total / limit), 1)
        return render_page(rows[(page - 1) * limit : page * limit], page, pages, total)

    def matching(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """The rows in [sdt, edt] in the asked order (newest first by default, as the API)."""
        low = pad(params.get("sdt", "0000-00-00"), "00:00:00")
        high = pad(params.get("edt", "9999-12-31"), "23:59:59")
        rows = [row for row in self.rows if low <= row["call_start"] <= high]
        rows.sort(key=lambda row: row["call_start"], reverse=params.get("order") != "cs_ASC")
        return rows


def pad(text: str, time: str) -> str:
    return text if len(text) > 10 else f"{text} {time}"


async def test_every_cdr_once_in_order_with_a_bounded_window(make_bulk: MakeBulk) -> None:
    fake = FakeCalls()
    _, bulk = make_bulk(fake)
    seen: list[tuple[int, int | None]] = []
    ids = [
        row["id"]
        async for row in bulk.iter_call_data(
            page_size=100,
            prefetch=3,
            sdt="2026-10-01",
            progress=lambda d, t: seen.append((d, t)),
        )
    ]
    assert ids == [row["id"] for row in CDRS]  # oldest first
    probes, pages = fake.requests[:2], fake.requests[2:]
    assert [(r["limit"], r["order"]) for r in probes] == [("1", "cs_ASC"), ("1", "cs_DESC")]
    assert sorted(int(r["page"]) for r in pages) == list(range(1, 14))
    assert all(r["limit"] == "100" and r["order"] == "cs_ASC" for r in pages)
    # the range is pinned to the first and last call it held
    assert {(r["sdt"], r["edt"]) for r in pages} == {
        (CDRS[0]["call_start"], CDRS[-1]["call_start"])
    }
    assert 2 <= fake.peak <= 3  # pages were fetched concurrently, within the window
    assert seen[0] == (0, 1234) and seen[-1] == (1234, 1234)


async def test_single_and_empty_ranges(make_bulk: MakeBulk) -> None:
    _, bulk = make_bulk(FakeCalls(rows=CDRS[:5]))
    assert len([r async for r in bulk.iter_call_data()]) == 5
    empty = FakeCalls(rows=[])
    _, bulk = make_bulk(empty)
    assert [r async for r in bulk.iter_call_data()] == []
    assert len(empty.requests) == 1  # the one-row probe says the range is empty


async def test_rows_keep_their_nested_lists(make_bulk: MakeBulk) -> None:
    _, bulk = make_bulk(FakeCalls(rows=CDRS[:8]))
    rows = [r async for r in bulk.iter_call_data(page_size=3)]
    assert rows[7]["node_name"] == "Shop & <Co>"
    assert rows[0]["categories"]["category"] == [{"category_id": "9", "label": "L", "value": "V"}]


async def test_failed_pages_are_retried_and_a_dead_page_raises(make_bulk: MakeBulk) -> None:
    fake = FakeCalls()
    fake.fail_pages = {2: 2, 5: 1}
    client, bulk = make_bulk(fake)
    assert len([r async for r in bulk.iter_call_data(page_size=200)]) == len(CDRS)
    assert client.retries_taken == 3

    fake = FakeCalls()
    fake.fail_pages = {4: 99}
    _, bulk = make_bulk(fake, max_retries=1)
    got = []
    with pytest.raises(ServerError):
        async for row in bulk.iter_call_data(page_size=200):
            got.append(row["id"])
    assert got == [row["id"] for row in CDRS[:600]]


async def test_windows_split_the_range_and_each_row_comes_once(make_bulk: MakeBulk) -> None:
    fake = FakeCalls()
    _, bulk = make_bulk(fake)
    plan = await bulk.plan_call_data(window_rows=100)
    assert len(plan.windows) >= 13 and all(w.expected <= 100 for w in plan.windows)
    assert plan.total == len(CDRS)
    assert [w.index for w in plan.windows] == list(range(len(plan.windows)))
    assert type(plan).from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    ids = [r["id"] async for r in bulk.iter_call_data(window_rows=100, page_size=30)]
    assert ids == [row["id"] for row in CDRS]
    newest = [r["id"] async for r in bulk.iter_call_data(window_rows=100, order="cs_DESC")]
    assert newest == [row["id"] for row in reversed(CDRS)]


async def test_stopping_early_cancels_pages_in_flight(make_bulk: MakeBulk) -> None:
    fake = FakeCalls(delay=0.05)
    client, bulk = make_bulk(fake)
    in_flight_at_break = 0
    async with contextlib.aclosing(bulk.iter_call_data(page_size=10, prefetch=5)) as rows:
        async for _ in rows:
            await asyncio.sleep(0.02)  # let the prefetched pages reach the server
            in_flight_at_break = fake.running
            break
    assert in_flight_at_break >= 2
    assert fake.cancelled == in_flight_at_break
    assert fake.running == 0
    assert client._transport.limiter.borrowed_tokens == 0
    assert len(fake.requests) <= 8  # 2 probes, the first page, 5 ahead


async def test_a_page_fetched_before_an_arrival_is_fetched_again(make_bulk: MakeBulk) -> None:
    fake = FakeCalls()
    fake.slow_page = fake.grow_on_page = 2  # page 3 answers first, then a call arrives
    _, bulk = make_bulk(fake)
    rows = [r["id"] async for r in bulk.iter_call_data(page_size=500, prefetch=2, order="cs_DESC")]
    # the new call landed on page 1, already read; nothing was missed or repeated
    assert len(rows) == len(set(rows)) == len(CDRS)
    assert set(rows) == {row["id"] for row in CDRS}
    pages = [int(r["page"]) for r in fake.requests if r["limit"] == "500"]
    assert sorted(pages) == [1, 2, 3, 3]  # page 3 was older than page 2: read again


async def test_bad_arguments(make_bulk: MakeBulk) -> None:
    fake = FakeCalls()
    _, bulk = make_bulk(fake)
    for kwargs in (
        {"bogus": 1},
        {"page": 2},
        {"limit": 5},
        {"page_size": 0},
        {"page_size": 20001},
        {"prefetch": 0},
        {"order": "tt_ASC"},
        {"req_fields": "cs,co"},
        {"window_rows": 0},
    ):
        with pytest.raises(ValidationError):
            async for _ in bulk.iter_call_data(**kwargs):
                pass
    with pytest.raises(ValidationError):
        await bulk.export_call_data("x.txt", format="xml")
    assert fake.requests == []


def test_page_count_trusts_the_larger_of_pages_and_totals() -> None:
    assert _page_count({"total_pages": "1", "total_results": "250"}, 100) == 3
    assert _page_count({"total_pages": "4", "total_results": "250"}, 100) == 4
    assert _page_count({"total_results": "0"}, 100) == 1
    assert _page_count({}, 100) == 1


async def test_an_empty_csv_export_has_its_header(make_bulk: MakeBulk, tmp_path: Path) -> None:
    _, bulk = make_bulk(FakeCalls(rows=[]))
    assert await bulk.export_call_data(tmp_path / "none.csv") == 0
    header = (tmp_path / "none.csv").read_text(encoding="utf-8").splitlines()
    assert header == [",".join(CDR_FIELDS)]
    assert await bulk.export_call_data(tmp_path / "none.jsonl") == 0
    assert (tmp_path / "none.jsonl").read_text(encoding="utf-8") == ""


async def test_export_csv_and_jsonl(make_bulk: MakeBulk, tmp_path: Path) -> None:
    _, bulk = make_bulk(FakeCalls())
    count = await bulk.export_call_data(tmp_path / "out" / "calls.csv", page_size=300)
    assert count == len(CDRS)
    with (tmp_path / "out" / "calls.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [r["id"] for r in CDRS]
    assert rows[7]["node_name"] == "Shop & <Co>"
    assert json.loads(rows[0]["categories"]) == {
        "category": [{"category_id": "9", "label": "L", "value": "V"}]
    }
    header = list(rows[0])
    assert header.index("id") < header.index("call_start") < header.index("categories")

    count = await bulk.export_call_data(tmp_path / "calls.jsonl", page_size=500)
    lines = (tmp_path / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    assert count == len(lines) == len(CDRS)
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in CDRS]
    count = await bulk.export_call_data(tmp_path / "calls.txt", "jsonl", page_size=500)
    assert count == len(CDRS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.jsonl", "calls.txt", "out"]


async def test_typed_rows_export_the_same_bytes(
    make_bulk: MakeBulk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows decoded as int/datetime/bool/None are written back in the API's text form:
    the export of typed rows equals that of the same rows turned back into text by hand."""
    import datetime as dt

    from iovox_async.bulk import cdrs, export

    _, bulk = make_bulk(FakeCalls(rows=CDRS[:50]))
    await bulk.export_call_data(tmp_path / "typed.csv")
    await bulk.export_call_data(tmp_path / "typed.jsonl")
    real = cdrs.fetch_page

    def text(value: Any) -> Any:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, int):
            return str(value)
        if isinstance(value, dict):
            return {key: text(item) for key, item in value.items()}
        if isinstance(value, list):
            return [text(item) for item in value]
        return value

    seen = []

    async def as_text(client: Any, **params: Any) -> Any:
        page = await real(client, **params)
        rows = cdrs.page_rows(page)
        assert any(isinstance(row.get("call_start"), dt.datetime) for row in rows)
        rows[:] = [text(row) for row in rows]
        seen.append(len(rows))
        return page

    texts = cdrs.PageRoute(as_text, cdrs.TYPED_ROWS.rows, cdrs.TYPED_ROWS.ids)
    monkeypatch.setattr(export, "TYPED_ROWS", texts)
    await bulk.export_call_data(tmp_path / "text.csv")
    await bulk.export_call_data(tmp_path / "text.jsonl")
    assert sum(seen) == 2 * 50
    assert (tmp_path / "typed.csv").read_bytes() == (tmp_path / "text.csv").read_bytes()
    assert (tmp_path / "typed.jsonl").read_bytes() == (tmp_path / "text.jsonl").read_bytes()
    assert cdrs.api_text(dt.date(2026, 1, 2)) == "2026-01-02"
    assert cdrs.api_text(False) == "0" and cdrs.api_text(None) == "" and cdrs.api_text(7) == "7"


@pytest.mark.parametrize("columns", [None, ["id", "call_start", "call_time_sec"]])
def test_csv_rows_are_written_as_api_text_writes_each_value(columns: list[str] | None) -> None:
    """The CSV writer skips api_text for columns the spec types as text or integer; a
    row with anything else there (or anywhere) is still written value by value."""
    import datetime as dt
    import io

    from iovox_async.bulk import cdrs

    start = dt.datetime(2026, 10, 1, 8, 30, 5)
    rows: list[dict[str, Any]] = [
        {"id": "1", "call_start": start, "call_time_sec": 180, "has_recording": True},
        {"id": "2", "call_start": start.replace(microsecond=5), "call_time_sec": None},
        {"id": "3", "call_start": start.replace(tzinfo=dt.timezone.utc), "email_sent": False},
        {"id": True, "call_start": start.replace(year=999), "call_time_sec": {"a": [1]}},
        {"id": "5", "call_start": None, "call_time_sec": 1.5, "categories": {"category": []}},
    ]
    out = io.StringIO()
    writer = cdrs.CsvRows(out, columns)
    for row in rows:
        writer.write(row)
    writer.finish()
    names = columns or [name for name in CDR_FIELDS if name in rows[0]]
    expected = [[cdrs.api_text(row.get(name)) for name in names] for row in rows]
    written = list(csv.reader(io.StringIO(out.getvalue())))
    assert written[-len(rows) :] == expected
    assert expected[1][1] == "2026-10-01 08:30:05" and expected[3][0] == "1"


async def test_failed_export_leaves_no_file(make_bulk: MakeBulk, tmp_path: Path) -> None:
    fake = FakeCalls()
    fake.fail_pages = {3: 99}
    _, bulk = make_bulk(fake, max_retries=0)
    with pytest.raises(ServerError):
        await bulk.export_call_data(tmp_path / "calls.csv", page_size=100)
    # no output and no temporary file; the job folder stays for resume=True, its head
    # holding the header only (the failed window's rows were cut off)
    assert [p.name for p in tmp_path.iterdir()] == ["calls.csv.parts"]
    kept = sorted(p.name for p in (tmp_path / "calls.csv.parts").iterdir())
    assert kept[1] == "job.json" and kept[0].startswith("head-00000-0-")
    header = (tmp_path / "calls.csv.parts" / kept[0]).read_bytes()
    assert header.endswith(b"\n") and header.count(b"\n") == 1
    assert fake.running == 0
    fake.fail_pages = {}
    assert await bulk.export_call_data(tmp_path / "calls.csv", page_size=100, resume=True) == len(
        CDRS
    )
    assert [p.name for p in tmp_path.iterdir()] == ["calls.csv"]


def test_every_cdr_under_trio_one_page_at_a_time(tmp_path: Path) -> None:
    from iovox_async import AsyncIovox
    from iovox_async.bulk import Bulk

    fake = FakeCalls(delay=0)

    async def main() -> tuple[list[str], int]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
        async with AsyncIovox("u", "k", base_url="https://api.test", http_client=http) as client:
            bulk = Bulk(client)
            ids = [row["id"] async for row in bulk.iter_call_data(page_size=100)]
            count = await bulk.export_call_data(tmp_path / "calls.csv", page_size=500)
        await http.aclose()
        return ids, count

    ids, count = anyio.run(main, backend="trio")
    assert ids == [row["id"] for row in CDRS] and count == len(CDRS)
    assert fake.peak == 1
