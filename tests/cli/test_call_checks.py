"""``iovox call`` checks its arguments as the generated methods do, before sending."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iovox_async._catalog import METHODS
from iovox_async.cli import main
from iovox_async.cli.call import parse_arguments
from iovox_async.testing import RunningEmulator

from .test_commands import SECRET, assert_one_line_error, run


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=50, seed=3, secure_key=SECRET) as running:
        yield running


@pytest.fixture
def in_process(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``iovox ...`` run in this process (faster than the console script)."""
    monkeypatch.setenv("IOVOX_USERNAME", emulator.username)
    monkeypatch.setenv("IOVOX_SECURE_KEY", emulator.secure_key)
    monkeypatch.setenv("IOVOX_BASE_URL", emulator.base_url)

    def iovox(*arguments: str) -> tuple[int, str, str]:
        status = main(list(arguments))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return iovox


def one_error_line(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("iovox: error: "), err
    assert SECRET not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (["sdt=2026-13-01"], ["sdt must be a real date", "'2026-13-01'"]),
        (["sdt=2026-10-02", "edt=2026-10-01"], ["sdt '2026-10-02' is after edt '2026-10-01'"]),
        (["bogus=1"], ["unknown parameter bogus", "known: page, limit,", "--raw"]),
        (["limit=0"], ["limit must be at least 1"]),
        (["limit=ten"], ["limit must be an integer, got 'ten'"]),
        (["output=YAML"], ["output must be one of XML, JSON"]),
        (["dconst=TODAY"], ["dconst must be", "YESTERDAY"]),
    ],
)
def test_bad_arguments_exit_2_and_send_nothing(
    emulator: RunningEmulator,
    in_process: Callable[..., tuple[int, str, str]],
    arguments: list[str],
    fragments: list[str],
) -> None:
    before = emulator.stats()["total_requests"]
    status, out, err = in_process("call", "Calls", "getCallData", *arguments)
    assert status == 2 and out == ""
    one_error_line(err, *fragments)
    assert emulator.stats()["total_requests"] == before


def test_the_console_script_exits_2_and_sends_nothing(emulator: RunningEmulator) -> None:
    before = emulator.stats()["total_requests"]
    done = run("call", "Calls", "getCallData", "bogus=1", "sdt=2026-13-01", emulator=emulator)
    assert done.returncode == 2, done.stderr
    assert_one_line_error(done, "unknown parameter bogus")
    assert emulator.stats()["total_requests"] == before


def test_good_arguments_are_converted_and_sent(
    in_process: Callable[..., tuple[int, str, str]],
) -> None:
    status, out, err = in_process(
        "call", "calls", "get_call_data", "limit=3", "sdt=2000-01-01", "edt=2100-12-31",
        "req_fields=id,cs",
    )  # fmt: skip
    assert status == 0, err
    rows = json.loads(out)["results"]["result"]
    assert len(rows) == 3 and len(rows[0]) == 2, rows[0]


def test_raw_sends_an_undocumented_parameter_unchecked(
    emulator: RunningEmulator,
    in_process: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = emulator.requests("Calls.getCallData")
    status, _, err = in_process("call", "Calls", "getCallData", "limit=1", "bogus=1", "--raw")
    assert status == 0, err
    assert emulator.requests("Calls.getCallData") == before + 1
    with pytest.raises(SystemExit):
        main(["call", "--help"])
    assert "unchecked" in capsys.readouterr().out


def test_payload_elements_are_checked_too() -> None:
    spec = METHODS["Nodes"]["createNodeFull"]
    with pytest.raises(Exception, match="node/node_id is required"):
        parse_arguments(spec, [], json.dumps({"node": {"node_name": "x", "node_type": "Shop"}}))
    typed = parse_arguments(METHODS["Calls"]["getCallData"], ["limit=2", "cat_ids=1,2"], None)
    assert typed.params == {"limit": 2, "cat_ids": ["1", "2"]}


def test_an_export_suffix_that_names_no_format_is_refused(
    emulator: RunningEmulator, in_process: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    before = emulator.stats()["total_requests"]
    target = str(tmp_path / "calls.xlsx")
    status, _, err = in_process("calls", "export", target, "--sdt", "2026-10-01")
    assert status == 1
    one_error_line(err, "cannot tell the export format of 'calls.xlsx'", ".csv")
    assert emulator.stats()["total_requests"] == before and not list(tmp_path.iterdir())
    status, _, err = in_process("calls", "export", target, "--format", "csv", "--sdt", "2000-01-01")
    assert status == 0, err


def test_a_missing_key_names_the_option_and_the_variable(
    in_process: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IOVOX_SECURE_KEY")
    status, _, err = in_process("call", "Calls", "getCallData")
    assert status == 1
    one_error_line(err, "the secure key is required: give --secure-key or set IOVOX_SECURE_KEY")
