"""Spec-typed values: conversions, empty and odd values, and unconvertible ones."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from iovox_async import ResponseDecodeError, ResponseValueError, ValidationError
from iovox_async._catalog import METHODS
from iovox_async._convert import shape_for
from iovox_async._decode import decode_json, decode_sync
from iovox_async._fastjson import fast_json
from iovox_async._xml import to_api_text

CALL_DATA = shape_for(METHODS["Calls"]["getCallData"])


def xml_page(row: str) -> bytes:
    return (
        "<response><current_page>1</current_page><total_pages>1</total_pages>"
        f"<total_results>1</total_results><results>{row}</results></response>"
    ).encode()


def json_page(row: object) -> bytes:
    envelope = {"current_page": "1", "total_pages": "1", "total_results": "1"}
    return json.dumps({"response": {**envelope, "results": {"result": row}}}).encode()


def both(xml_row: str, json_row: object) -> Any:
    from_xml = decode_sync(xml_page(xml_row), False, CALL_DATA)
    from_json = decode_sync(json_page(json_row), True, CALL_DATA)
    assert from_xml == from_json
    return from_xml


def test_documented_types_convert_alike_from_xml_and_json() -> None:
    page = both(
        "<result><id>0042</id><call_start>2026-10-01 08:30:05</call_start>"
        "<call_time_sec>180</call_time_sec><has_recording>1</has_recording>"
        "<email_sent>0</email_sent><voxnumber>442030000000</voxnumber><detail/></result>",
        {
            "id": "0042",
            "call_start": "2026-10-01 08:30:05",
            "call_time_sec": "180",
            "has_recording": "1",
            "email_sent": "0",
            "voxnumber": "442030000000",
            "detail": "",
        },
    )
    assert (page["current_page"], page["total_pages"], page["total_results"]) == (1, 1, 1)
    [row] = page["results"]["result"]
    assert row == {
        "id": "0042",  # identifiers and phone numbers stay text, leading zeros kept
        "call_start": dt.datetime(2026, 10, 1, 8, 30, 5),
        "call_time_sec": 180,
        "has_recording": True,
        "email_sent": False,
        "voxnumber": "442030000000",
        "detail": None,
    }
    assert "categories" not in row  # a container the body lacks is not invented


def test_json_native_scalars_give_the_xml_result() -> None:
    row = both(
        "<result><id>7</id><call_time_sec>5</call_time_sec><has_recording>TRUE</has_recording>"
        "<email_sent>false</email_sent></result>",
        {"id": 7, "call_time_sec": 5, "has_recording": True, "email_sent": False},
    )["results"]["result"][0]
    assert row == {"id": "7", "call_time_sec": 5, "has_recording": True, "email_sent": False}


def test_empty_rows_and_containers_are_dicts_from_both_formats() -> None:
    page = both(
        "<result/><result><id>1</id><categories/></result>", [{}, {"id": "1", "categories": ""}]
    )
    assert page["results"]["result"] == [{}, {"id": "1", "categories": {"category": []}}]
    empty = decode_sync(b"<response><total_results>0</total_results></response>", False, CALL_DATA)
    assert empty == {"total_results": 0, "results": {"result": []}}
    assert (
        decode_sync(b'{"response": {"total_results": "0", "results": ""}}', True, CALL_DATA)
        == empty
    )


def test_fields_outside_the_spec_are_kept_as_text_from_both_formats() -> None:
    row = both(
        "<result><id>1</id><extra>9</extra><blank/><nested><a>1</a></nested></result>",
        {"id": "1", "extra": 9, "blank": "", "nested": {"a": 1}},
    )["results"]["result"][0]
    assert row == {"id": "1", "extra": "9", "blank": None, "nested": {"a": "1"}}


def test_zero_dates_are_none() -> None:
    row = both(
        "<result><call_start>0000-00-00 00:00:00</call_start></result>",
        {"call_start": "0000-00-00 00:00:00"},
    )["results"]["result"][0]
    assert row == {"call_start": None}


@pytest.mark.parametrize(
    "element,value",
    [
        ("call_time_sec", "1.5"),
        ("call_time_sec", "12a"),
        ("call_time_sec", "١٢"),  # Arabic-Indic digits: int() would take them
        ("has_recording", "2"),
        ("has_recording", "yes"),
        ("call_start", "01/10/2026"),
        ("call_start", "2026-13-01 00:00:00"),
    ],
)
def test_a_value_that_will_not_convert_is_an_error_naming_it(element: str, value: str) -> None:
    for body, as_json in (
        (xml_page(f"<result><id>1</id><{element}>{value}</{element}></result>"), False),
        (json_page({"id": "1", element: value}), True),
    ):
        with pytest.raises(ResponseValueError) as caught:
            decode_sync(body, as_json, CALL_DATA)
        error = caught.value
        assert isinstance(error, ResponseDecodeError)
        assert (error.method, error.element, error.value) == (
            "Calls.getCallData",
            f"results/result/{element}",
            value,
        )
        assert "Calls.getCallData" in str(error) and repr(value) in str(error)


def test_an_unconvertible_envelope_value_is_named_too() -> None:
    with pytest.raises(ResponseValueError, match="<total_results> should be an integer"):
        decode_sync(b"<response><total_results>many</total_results></response>", False, CALL_DATA)


async def test_raw_request_keeps_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from iovox_async import AsyncIovox

    body = xml_page("<result><call_time_sec>1.5</call_time_sec></result>")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    async with AsyncIovox(
        "u", "k", base_url="https://x.test", http_client=httpx.AsyncClient(transport=transport)
    ) as iovox:
        raw = await iovox.request("Calls", "getCallData")
        assert isinstance(raw, dict)
        assert raw["results"]["result"] == [{"call_time_sec": "1.5"}]
        assert raw["total_results"] == "1"
        with pytest.raises(ResponseValueError):
            await iovox.calls.get_call_data()


def test_aware_datetimes_are_refused_as_arguments() -> None:
    aware = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with pytest.raises(ValidationError, match="UTC offset"):
        to_api_text(aware)
    assert to_api_text(aware.replace(tzinfo=None)) == "2026-10-01 08:00:00"


async def test_aware_datetimes_are_refused_before_sending() -> None:
    import httpx

    from iovox_async import AsyncIovox

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"<response/>")

    aware = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncIovox("u", "k", base_url="https://x.test", http_client=client) as iovox:
        with pytest.raises(ValidationError, match="UTC offset"):
            await iovox.calls.get_call_data(sdt=aware)
        with pytest.raises(ValidationError, match="UTC offset"):
            await iovox.request("Calls", "getCallData", params={"sdt": aware})
    assert sent == []


# -- the JSON fast path (msgspec + compiled leaves) against the generic path -----------

ODD_ROWS: list[object] = [
    {"id": "1", "call_start": "2026-10-01 08:30:05", "call_time_sec": "180", "email_sent": "1"},
    {"id": "1", "call_start": "", "call_time_sec": "", "has_recording": ""},
    {"id": "1", "call_start": "0000-00-00 00:00:00", "call_end": "0000-00-00"},
    {"call_start": "2026-10-01T08:30:05", "call_end": "2026-10-01 08:30:05.1234567"},
    {"call_start": "2026-10-01 08:30:05Z", "call_end": "2026-10-01 08:30:05+01:00"},
    {"call_start": "2026-10-01", "call_end": "2026-10-01 08:30"},
    {"call_time_sec": "0012", "talk_time_sec": "-5", "has_recording": "TRUE"},
    {"has_recording": "True", "email_sent": "false"},
    {"id": 42, "call_time_sec": 180, "has_recording": 1, "email_sent": True},
    {"id": "1", "surprise": "kept", "call_time_sec": "7"},
    {"id": "1", "categories": {"category": {"category_id": "3", "label": "a", "value": ""}}},
    {"id": "1", "categories": {"category": [{"category_id": "3"}, ""]}},
    {"id": "1", "categories": ""},
    {"id": "1", "detail": 'say ":"" here'},
    {"id": "1", "detail": None, "node_name": "  "},
    {"call_time_sec": "1.0", "talk_time_sec": "1e3", "call_end": "2026-10-01 08:30:05.9999999"},
    {"call_time_sec": 180.0, "talk_time_sec": "-0", "has_recording": 0},
    {"call_time_sec": "null", "has_recording": "NULL", "call_start": "Null", "detail": "null"},
    {"id": "1", "categories": "null", "call_categories": {"category": "nUlL"}},
    {"id": "1", "categories": {"category": ["null", {"category_id": "null"}]}},
    {"call_start": "2026-10-01T08:30:05+00:00", "call_end": "2026-10-01 08:30:05z"},
    {},
    "",
    "null",
]

BAD_ROWS: list[object] = [
    {"call_time_sec": "1.5"},
    {"call_time_sec": "1e400"},
    {"call_time_sec": "NaN"},
    {"call_end": "1700000000"},  # lax msgspec would read a Unix time
    {"call_time_sec": "9" * 5000},  # more digits than int() takes
    {"call_time_sec": "--5"},
    {"call_time_sec": "\u0663"},
    {"call_time_sec": 1.5},
    {"has_recording": "yes"},
    {"call_start": "2026-13-01 08:30:05"},
    {"call_start": "20261001T083005"},
    {"call_start": "2026-10-01 24:00:00"},
]


def json_body(row: object, separators: tuple[str, str] = (", ", ": ")) -> bytes:
    envelope = {"current_page": "1", "total_pages": "1", "total_results": "1"}
    data = {"response": {**envelope, "results": {"result": row}}}
    return json.dumps(data, separators=separators).encode()


@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":"), (" , ", " :  ")])
@pytest.mark.parametrize("row", [*ODD_ROWS, ODD_ROWS[:3]], ids=repr)
def test_the_fast_path_gives_what_the_generic_path_gives(row: object, separators: Any) -> None:
    body = json_body(row, separators)
    assert decode_json(body, CALL_DATA) == decode_json(body, CALL_DATA, fast=False)


@pytest.mark.parametrize("row", BAD_ROWS, ids=repr)
def test_the_fast_path_raises_what_the_generic_path_raises(row: object) -> None:
    body = json_body([{"id": "1"}, row])
    with pytest.raises(ResponseValueError) as generic:
        decode_json(body, CALL_DATA, fast=False)
    with pytest.raises(ResponseValueError) as fast:
        decode_json(body, CALL_DATA)
    assert str(fast.value) == str(generic.value)
    assert "Calls.getCallData" in str(fast.value)


def test_the_fast_path_takes_a_plain_page_and_declines_unknown_keys() -> None:
    path = fast_json(CALL_DATA)
    assert path is not None
    rows = [{"id": str(n), "call_start": "2026-10-01 08:30:05", "detail": ""} for n in range(3)]
    page = path.decode(json_body(rows))
    assert page is not None and page["results"]["result"][2]["detail"] is None
    assert page["results"]["result"][0]["call_start"] == dt.datetime(2026, 10, 1, 8, 30, 5)
    # msgspec would drop "surprise"; the key count notices and the generic path keeps it
    body = json_body([{"id": "1", "surprise": "x"}])
    assert path.decode(body) is None
    assert decode_json(body, CALL_DATA)["results"]["result"][0]["surprise"] == "x"


def test_an_integer_of_two_minus_signs_is_a_response_value_error() -> None:
    with pytest.raises(ResponseValueError, match="call_time_sec"):
        decode_json(json_body({"call_time_sec": "--5"}), CALL_DATA, fast=False)


def assert_both_paths_agree(body: bytes) -> dict[str, Any] | None:
    """Both paths give the same result, or raise the same error; the result, if any."""
    try:
        generic = decode_json(body, CALL_DATA, fast=False)
    except ResponseDecodeError as error:
        with pytest.raises(ResponseDecodeError) as fast:
            decode_json(body, CALL_DATA)
        assert str(fast.value) == str(error)
        return None
    assert decode_json(body, CALL_DATA) == generic
    return generic


@pytest.mark.parametrize("rows", [None, "text", 5, [], [None, ""], {"id": "1"}], ids=repr)
def test_rows_kept_raw_decode_as_the_generic_path_does(rows: object) -> None:
    assert_both_paths_agree(json_body(rows))


@pytest.mark.parametrize("one_pass_bytes", [0, 1 << 30], ids=["rows kept raw", "one pass"])
def test_rows_are_decoded_in_chunks_alike(
    monkeypatch: pytest.MonkeyPatch, one_pass_bytes: int
) -> None:
    """A page is finished chunk by chunk (and, when its rows are kept raw, decoded so),
    with a pause between chunks, into the very same result."""
    from iovox_async import _fastjson

    monkeypatch.setattr(_fastjson, "ROWS_PER_DECODE", 3)
    monkeypatch.setattr(_fastjson, "ONE_PASS_BYTES", one_pass_bytes)
    path = fast_json(CALL_DATA)
    assert path is not None
    good = [r for r in ODD_ROWS if path.decode(json_body([r])) is not None]
    assert len(good) >= 8
    rows = [*good, None, {"id": "9", "call_time_sec": "7"}, *good]
    for separators in [(", ", ": "), (",", ":")]:
        body = json_body(rows, separators)
        fast = path.decode(body)
        assert fast is not None, "the fast path declined a page it can vouch for"
        assert fast == decode_json(body, CALL_DATA, fast=False)
    # a bad value in a later chunk raises what the generic path raises
    body = json_body([*good, {"call_time_sec": "1.5"}])
    with pytest.raises(ResponseValueError) as generic:
        decode_json(body, CALL_DATA, fast=False)
    with pytest.raises(ResponseValueError) as chunked:
        decode_json(body, CALL_DATA)
    assert str(chunked.value) == str(generic.value)


async def test_a_big_json_page_is_decoded_in_steps_letting_the_loop_run() -> None:
    """Above the offload size, a fast-path page decodes on the loop a chunk of rows at a
    time, with turns of the loop between, into what the generic path gives."""
    import asyncio

    from iovox_async._constants import OFFLOAD_DECODE_BYTES
    from iovox_async._decode import decode_body
    from iovox_async._fastjson import ROWS_PER_DECODE

    row = {"id": "1", "call_start": "2026-10-01 08:30:05", "call_time_sec": "180", "detail": ""}
    rows = [{**row, "id": str(n)} for n in range(max(4 * ROWS_PER_DECODE, 4000))]
    body = json_body(rows)
    assert len(body) > OFFLOAD_DECODE_BYTES
    turns = 0
    decoding = True

    async def count_turns() -> None:
        nonlocal turns
        while decoding:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.ensure_future(count_turns())
    await asyncio.sleep(0)
    page = await decode_body(body, "application/json", shape=CALL_DATA)
    decoding = False
    await counter
    assert page == decode_json(body, CALL_DATA, fast=False)
    assert turns >= 4, "the loop had no turn while the page decoded"


TEXTS_BY_ELEMENT = {
    "call_time_sec": [
        "0", "7", "-7", "007", "-0", "1.0", "1e3", "1E3", "10e-1", "1.5", "1e400", "null",
        "NULL", " 5", "+5", "0x1", "\u0661", "1_000", "9" * 30, "Infinity", "1.",
    ],
    "has_recording": ["1", "0", "true", "FALSE", "True", "tRuE", "null", "yes", "2", " 1", "t"],
    "call_start": [
        "2026-10-01 08:30:05", "2026-10-01T08:30:05", "2026-10-01t08:30:05",
        "2026-10-01 08:30:05.5", "2026-10-01 08:30:05.1234567", "2026-10-01 08:30:05.9999999",
        "2026-10-01 08:30:05Z", "2026-10-01 08:30:05-00:00", "2026-10-01 08:30:05+0100",
        "2026-10-01", "2026-10-01 08:30", "2026-02-30 08:30:05", "2026-10-01 24:00:00",
        "2026-10-01 08:30:60", "0000-00-00 00:00:00", "null", "1700000000", "2026-10-01_08:30:05",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "element,text",
    [(element, text) for element, texts in TEXTS_BY_ELEMENT.items() for text in texts],
)
def test_the_fast_path_and_the_generic_path_read_every_text_alike(element: str, text: str) -> None:
    """msgspec converts typed values on the fast path; the generic converters must read
    each text as it does, or the path must decline: a result never depends on the path."""
    generic = assert_both_paths_agree(json_body([{"id": "1", element: text}]))
    if generic is not None:
        xml = xml_page(f"<result><id>1</id><{element}>{text}</{element}></result>")
        assert decode_sync(xml, False, CALL_DATA) == generic


def test_the_fast_path_converts_the_api_s_own_forms_itself() -> None:
    path = fast_json(CALL_DATA)
    assert path is not None
    row = {"id": "1", "call_start": "2026-10-01 08:30:05", "call_time_sec": "180"}
    row |= {"has_recording": "1", "email_sent": "false", "detail": "null"}
    page = path.decode(json_body([row]))
    assert page is not None, "the fast path declined the API's own forms"
    start = dt.datetime(2026, 10, 1, 8, 30, 5)
    expected = {"id": "1", "call_start": start, "call_time_sec": 180}
    expected |= {"has_recording": True, "email_sent": False, "detail": "null"}
    assert page["results"]["result"] == [expected]


@pytest.mark.parametrize("surprise", [False, True], ids=["xml", "json the fast path declines"])
async def test_big_pages_off_the_fast_path_decode_alike_in_a_worker_thread(surprise: bool) -> None:
    """Above the offload size, XML and JSON the fast path declines (here: a key outside
    the spec) are decoded in a worker thread into what the calling thread gives."""
    from iovox_async._constants import OFFLOAD_DECODE_BYTES
    from iovox_async._decode import decode_body

    if surprise:
        row = {"call_start": "2026-10-01 08:30:05", "surprise": "x"}
        body = json_body([{"id": str(n), **row} for n in range(8000)])
    else:
        row = "<result><id>{}</id><call_start>2026-10-01 08:30:05</call_start><detail/></result>"
        body = xml_page("".join(row.format(n) for n in range(8000)))
    assert len(body) > OFFLOAD_DECODE_BYTES
    page = await decode_body(body, None, shape=CALL_DATA)
    assert page == decode_sync(body, surprise, CALL_DATA)
    assert len(page["results"]["result"]) == 8000  # type: ignore[index]


def test_a_huge_unconvertible_value_is_named_in_a_short_message() -> None:
    body = json_body([{"id": "1", "call_time_sec": "9" * 5000}])
    with pytest.raises(ResponseValueError) as caught:
        decode_json(body, CALL_DATA)
    assert caught.value.value == "9" * 5000  # kept whole on the error
    assert "call_time_sec" in str(caught.value) and len(str(caught.value)) < 300


@pytest.mark.parametrize("depth", [900, 100_000])
def test_json_nested_too_deeply_is_a_decode_error(depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    body = b'{"response": {"results": {"result": [{"id": "1", "extra": ' + nested + b"}]}}}"
    try:
        page = decode_json(body, CALL_DATA)
    except ResponseDecodeError as error:
        assert "nested too deeply" in str(error)
    else:  # shallow enough for this stack: decoded, the extra kept
        assert page["results"]["result"][0]["id"] == "1"
    with pytest.raises(ResponseDecodeError, match="nested too deeply"):
        decode_json(b'{"response": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", CALL_DATA)
