"""The CSV export's text route and its head file: the same bytes as the typed rows give,
whatever the values, however the export was interrupted or shared out."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from iovox_async import ResponseValueError
from iovox_async.bulk import Bulk, BulkError, ExportJob, cdrtext, export
from iovox_async.bulk.cdrs import CDR_FIELDS, CDR_TYPES, csv_lines
from iovox_async.bulk.cdrtext import TextRows, text_route
from iovox_async.bulk.export import Head

from .conftest import MakeBulk

TEXT_FIELDS = [name for name in CDR_FIELDS if CDR_TYPES.get(name) == "string"]


def cdr(n: int) -> dict[str, Any]:
    """A CDR as the API writes it in JSON: every value a string, empty ones ``""``."""
    start = f"2026-10-{1 + n // 3600 % 28:02d} {n // 60 % 24:02d}:{n % 60:02d}:{n % 59:02d}"
    row = {name: f"{name.upper()} {n % 40}" for name in TEXT_FIELDS}
    row.update(
        id=f"{700000 + n}",
        call_start=start,
        call_end=start[:-2] + f"{(n + 7) % 60:02d}",
        detail="",
        call_time_sec=str(n % 400),
        talk_time_sec="0" if n % 5 else "160",
        has_recording=str(n % 2),
        email_sent="",
    )
    return row


CDRS = [cdr(n) for n in range(240)]


class JsonCalls:
    """getCallData as JSON pages over ``rows``, honouring sdt/edt, order, page and limit."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.requests = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        assert params["method"] == "getCallData" and params.get("output") == "JSON"
        self.requests += 1
        low = params.get("sdt", "0000")
        high = params.get("edt", "9999")
        if len(high) == 10:
            high += " 23:59:59"
        rows = [r for r in self.rows if low <= r["call_start"].replace("T", " ")[:19] <= high]
        rows.sort(key=lambda r: r["call_start"], reverse=params.get("order") == "cs_DESC")
        page, limit = int(params["page"]), int(params["limit"])
        chosen = rows[(page - 1) * limit : page * limit]
        results: Any = {"result": chosen[0] if len(chosen) == 1 else chosen} if chosen else ""
        content = {
            "current_page": str(page),
            "total_pages": str(max(1, math.ceil(len(rows) / limit))),
            "total_results": str(len(rows)),
            "results": results,
        }
        body = json.dumps({"response": content}).encode()
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})


async def exported(make_bulk: MakeBulk, rows: list[dict[str, Any]], path: Path) -> bytes | str:
    """The export of ``rows`` to ``path``: its bytes, or the error it raised."""
    _, bulk = make_bulk(JsonCalls(rows), max_retries=0)
    try:
        await bulk.export_call_data(path, page_size=50, window_rows=100)
    except ResponseValueError as error:
        return f"{type(error).__name__}: {error}"
    return path.read_bytes()


def with_value(field: str, value: Any, every: int = 7) -> list[dict[str, Any]]:
    rows = [dict(row) for row in CDRS]
    for row in rows[3::every]:
        if value is KeyError:
            del row[field]
        else:
            row[field] = value
    return rows


VARIANTS = [
    ("node_name", "Smith, John"),
    ("node_name", 'say "hi"'),
    ("node_name", "two\nlines"),
    ("node_name", "carriage\rreturn"),
    ("node_name", "tab\tand ünïcødé"),
    ("node_name", " spaced "),
    ("detail", None),
    ("voxnumber", KeyError),
    ("call_time_sec", "007"),
    ("call_time_sec", "+5"),
    ("call_time_sec", "1e3"),
    ("call_time_sec", "123456789012345678901"),
    ("call_time_sec", ""),
    ("call_time_sec", 180),
    ("call_time_sec", "abc"),
    ("has_recording", "true"),
    ("has_recording", ""),
    ("has_recording", "2"),
    ("call_end", "2026-10-01T08:30:05"),
    ("call_end", "2026-10-01 08:30:05.250"),
    ("call_end", "2024-02-29 10:00:00"),
    ("call_end", "2026-02-29 10:00:00"),
    ("call_end", "2026-04-31 10:00:00"),
    ("call_end", "0999-01-01 00:00:00"),
    ("call_end", "2026-10-01 08:30"),
    ("call_end", ""),
    ("surprise", "an element the spec does not list"),
]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize(("field", "value"), VARIANTS, ids=[f"{f}={v!r}" for f, v in VARIANTS])
async def test_the_text_route_writes_what_the_typed_rows_write(
    make_bulk: MakeBulk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    value: Any,
    suffix: str,
) -> None:
    rows = with_value(field, value)
    fast = await exported(make_bulk, rows, tmp_path / f"fast{suffix}")
    monkeypatch.setattr(export, "text_route", lambda columns, format: None)
    typed = await exported(make_bulk, rows, tmp_path / f"typed{suffix}")
    assert fast == typed
    if not isinstance(fast, bytes):
        return
    if suffix == ".csv":
        written = list(csv.reader(io.StringIO(fast.decode("utf-8"), newline="")))[1:]
        assert sorted(r[0] for r in written) == sorted(r["id"] for r in rows)
    else:
        lines = fast.decode("utf-8").split("\n")
        assert lines.pop() == ""
        assert sorted(json.loads(line)["id"] for line in lines) == sorted(r["id"] for r in rows)


def page_body(rows: list[dict[str, Any]]) -> bytes:
    content = {"total_results": str(len(rows)), "results": {"result": rows}}
    return json.dumps({"response": content}).encode()


CANONICAL = {
    "node_name": ["Smith, John", 'say "hi"', "two\nlines", ""],
    "call_time_sec": ["0", "180", "999999999999999999"],
    "has_recording": ["0", "1", ""],
    "call_end": ["2024-02-29 10:00:00", "1000-01-01 00:00:00", "2026-12-31 23:59:59", ""],
}
NOT_CANONICAL = {
    "detail": [None, 5],
    "call_time_sec": ["007", "+5", "1e3", " 5", "5 ", "٣", "1234567890123456789", 180],
    "has_recording": ["true", "2", True],
    "call_end": [
        "2026-10-01T08:30:05",
        "2026-10-01 08:30:05.2",
        "2026-02-29 10:00:00",
        "2026-11-31 10:00:00",
        "0999-01-01 00:00:00",
        "2026-10-01 24:00:00",
        "2026-10-01 08:30:05Z",
    ],
    "surprise": ["x"],
}


def vouched(page: dict[str, Any] | None) -> bool:
    """Whether the text route gave this page (it hands the others to the typed path)."""
    return page is not None and isinstance(page["results"]["result"], TextRows)


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_the_text_route_declines_exactly_the_values_it_cannot_vouch_for(format: str) -> None:
    route = text_route(CDR_FIELDS[:25], format)  # type: ignore[arg-type]
    assert route is not None
    path = route.shape.fast
    assert isinstance(path, cdrtext._TextPages)
    for field, values in CANONICAL.items():
        for value in values:
            rows = [cdr(1), {**cdr(2), field: value}]
            page = path.decode(page_body(rows))
            assert page is not None, (field, value)
            lines = page["results"]["result"]
            assert isinstance(lines, TextRows) and lines.ids == ["700001", "700002"]
            if format == "csv":
                assert next(csv.reader(io.StringIO(lines[1], newline="")))[0] == "700002"
            else:
                assert json.loads(lines[1]) == {**cdr(2), field: value}
    for field, values in NOT_CANONICAL.items():
        for value in values:
            rows = [cdr(1), {**cdr(2), field: value}]
            assert not vouched(path.decode(page_body(rows))), (field, value)
    # A lone row is an object, an empty page has no rows.
    lone = path.decode(json.dumps({"response": {"results": {"result": cdr(3)}}}).encode())
    assert lone is not None and lone["results"]["result"].ids == ["700003"]
    empty = path.decode(json.dumps({"response": {"results": {}}}).encode())
    assert empty is not None and empty["results"]["result"] == []
    assert not vouched(path.decode(b'{"response": {}, "other": 1}'))
    assert path.decode(b"<response/>") is None


def test_no_text_route_for_nested_or_unknown_columns() -> None:
    assert text_route(("id", "call_start", "categories")) is None
    assert text_route(("id", "call_start", "surprise")) is None
    assert text_route(("call_start", "node_name")) is None  # rows are told apart by id
    assert text_route(("id", "call_start")) is not None


def test_csv_lines_are_what_the_csv_module_writes_and_read_back() -> None:
    pick = random.Random(7)
    alphabet = ["a", "b", "7", " ", ",", '"', "\n", "\r", "\t", "é", "\x00", ""]
    for _ in range(3000):
        width = pick.randint(1, 4)
        rows = [
            tuple("".join(pick.choices(alphabet, k=pick.randint(0, 4))) for _ in range(width))
            for _ in range(pick.randint(1, 4))
        ]
        text = "".join(line + "\n" for line in csv_lines(rows, width))
        assert [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))] == rows
        if not any("\r" in value for row in rows for value in row):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            assert text == buffer.getvalue()


# -- the head: one growing file, cut back after a crash ---------------------------------


async def reference(make_bulk: MakeBulk, path: Path) -> bytes:
    _, bulk = make_bulk(JsonCalls(CDRS))
    await bulk.export_call_data(path, page_size=30, window_rows=50)
    return path.read_bytes()


@dataclass
class Started:
    """An export planned over CDRS, its head opened, and the bytes a whole run writes."""

    whole: bytes
    target: Path
    bulk: Bulk
    calls: JsonCalls
    job: ExportJob
    head: Head


async def started(make_bulk: MakeBulk, tmp_path: Path) -> Started:
    whole = await reference(make_bulk, tmp_path / "reference.csv")
    calls = JsonCalls(CDRS)
    _, bulk = make_bulk(calls)
    target = tmp_path / "calls.csv"
    job = await bulk.plan_export(target, window_rows=50)
    return Started(whole, target, bulk, calls, job, job.open_head())


async def test_a_head_with_bytes_past_its_whole_windows_is_cut_back(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    run = await started(make_bulk, tmp_path)
    head = run.head
    for window in run.job.plan.windows[:2]:
        head = await run.job.append_window(run.bulk._client, head, window, page_size=30)
    # A run killed in the middle of the third window left half of it behind.
    with head.path.open("ab") as handle:
        handle.write(b"700123,2026-10-01 00:02:03,half a ro")
    requests = run.calls.requests
    await run.bulk.export_call_data(run.target, page_size=30, window_rows=50, resume=True)
    assert run.target.read_bytes() == run.whole
    assert not run.job.folder.exists()
    windows = len(run.job.plan.windows)
    assert 0 < run.calls.requests - requests <= 3 * (windows - 2)  # only the windows left


async def test_a_head_shorter_than_its_name_is_read_again(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    run = await started(make_bulk, tmp_path)
    window = run.job.plan.windows[0]
    head = await run.job.append_window(run.bulk._client, run.head, window, page_size=30)
    # The system went down before the head reached the disk: it lost its end.
    with head.path.open("r+b") as handle:
        handle.truncate(head.size - 10)
    await run.bulk.export_call_data(run.target, page_size=30, window_rows=50, resume=True)
    assert run.target.read_bytes() == run.whole


@pytest.mark.parametrize("concurrency", [2, 3, 9])
async def test_windows_read_at_once_give_the_same_bytes(
    make_bulk: MakeBulk, tmp_path: Path, concurrency: int
) -> None:
    whole = await reference(make_bulk, tmp_path / "reference.csv")
    target = tmp_path / "calls.csv"
    _, bulk = make_bulk(JsonCalls(CDRS))
    rows = await bulk.export_call_data(
        target, page_size=30, window_rows=50, concurrency=concurrency
    )
    assert rows == len(CDRS)
    assert target.read_bytes() == whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "reference.csv"]


async def test_a_merge_takes_a_head_and_parts_from_elsewhere(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    run = await started(make_bulk, tmp_path)
    job, client = run.job, run.bulk._client
    windows = job.plan.windows
    assert len(windows) >= 4
    head = await job.append_window(client, run.head, windows[0], page_size=30)
    for window in reversed(windows[1:]):  # other workers, in any order
        await job.run_window(client, window.index, page_size=30)
    assert await job.run_window(client, 0) == 0  # the head has it already
    with pytest.raises(BulkError, match="not next to the head"):
        job.absorb(head, windows[2].index)
    assert job.merge() == len(CDRS)
    assert run.target.read_bytes() == run.whole
    assert not job.folder.exists()


async def test_a_second_run_of_a_running_export_refuses_and_harms_nothing(
    make_bulk: MakeBulk, tmp_path: Path
) -> None:
    whole = await reference(make_bulk, tmp_path / "reference.csv")
    target = tmp_path / "calls.csv"
    calls = JsonCalls(CDRS)
    _, bulk = make_bulk(calls)
    in_window = anyio.Event()
    go_on = anyio.Event()
    real = calls.__call__

    async def held_up(request: httpx.Request) -> httpx.Response:
        if request.url.params["limit"] != "1":  # a window's page, not the plan's probes
            in_window.set()
            await go_on.wait()
        return await real(request)

    _, held_bulk = make_bulk(held_up)
    first: list[int] = []

    async def export() -> None:
        first.append(await held_bulk.export_call_data(target, page_size=30, window_rows=50))

    async with anyio.create_task_group() as group:
        group.start_soon(export)
        await in_window.wait()
        for resume in (True, False):  # a retried job, with or without resume
            with pytest.raises(BulkError, match="running already"):
                await bulk.export_call_data(target, page_size=30, window_rows=50, resume=resume)
        go_on.set()
    assert first == [len(CDRS)]
    assert target.read_bytes() == whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "reference.csv"]
