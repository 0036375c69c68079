"""``iovox call`` checks its arguments as the generated methods do, before sending."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from iovox_async.cli.call import parse_arguments
from iovox_async.interfaces._catalog import METHODS
from iovox_async.testing import RunningEmulator

from .test_commands import SECRET, assert_one_line_error, run


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=50, seed=3, secure_key=SECRET) as running:
        yield running


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (["sdt=2026-13-01"], ["sdt must be a real date", "'2026-13-01'"]),
        (["sdt=2026-10-02", "edt=2026-10-01"], ["sdt '2026-10-02' is after edt '2026-10-01'"]),
        (["bogus=1"], ["unknown parameter bogus", "known: page, limit,", "--raw"]),
        (["limit=0"], ["limit must be at least 1"]),
        (["limit=ten"], ["limit must be an integer, got 'ten'"]),
        (["output=YAML"], ["output must be one of XML, JSON"]),
        (["req_fields=cs,nope"], ["req_fields must be one of", "'nope'"]),
    ],
)
def test_bad_arguments_exit_2_and_send_nothing(
    emulator: RunningEmulator, arguments: list[str], fragments: list[str]
) -> None:
    before = emulator.stats()["total_requests"]
    done = run("call", "Calls", "getCallData", *arguments, emulator=emulator)
    assert done.returncode == 2, done.stderr
    assert_one_line_error(done, *fragments)
    assert emulator.stats()["total_requests"] == before


def test_good_arguments_are_converted_and_sent(emulator: RunningEmulator) -> None:
    done = run(
        "call", "calls", "get_call_data", "limit=3", "sdt=2000-01-01", "edt=2100-12-31",
        "req_fields=id,cs", emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["results"]["result"]
    assert len(rows) == 3 and len(rows[0]) == 2, rows[0]


def test_raw_sends_an_undocumented_parameter_unchecked(emulator: RunningEmulator) -> None:
    before = emulator.requests("Calls.getCallData")
    done = run("call", "Calls", "getCallData", "limit=1", "bogus=1", "--raw", emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert emulator.requests("Calls.getCallData") == before + 1
    assert "unchecked" in run("call", "--help").stdout


def test_payload_elements_are_checked_too() -> None:
    spec = METHODS["Nodes"]["createNodeFull"]
    with pytest.raises(Exception, match="node/node_id is required"):
        parse_arguments(spec, [], json.dumps({"node": {"node_name": "x", "node_type": "Shop"}}))
    typed = parse_arguments(METHODS["Calls"]["getCallData"], ["limit=2", "cat_ids=1,2"], None)
    assert typed.params == {"limit": 2, "cat_ids": ["1", "2"]}


def test_an_export_suffix_that_names_no_format_is_refused(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    before = emulator.stats()["total_requests"]
    done = run(
        "calls", "export", str(tmp_path / "calls.xlsx"), "--sdt", "2026-10-01", emulator=emulator
    )
    assert_one_line_error(done, "cannot tell the export format of 'calls.xlsx'", ".csv")
    assert emulator.stats()["total_requests"] == before and not list(tmp_path.iterdir())
    done = run(
        "calls", "export", str(tmp_path / "calls.xlsx"), "--format", "csv", "--sdt", "2000-01-01",
        emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_missing_key_names_the_option_and_the_variable(emulator: RunningEmulator) -> None:
    done = run("call", "Calls", "getCallData", emulator=emulator, IOVOX_SECURE_KEY="")
    assert_one_line_error(done, "secure key is required: give --secure-key or set IOVOX_SECURE_KEY")
