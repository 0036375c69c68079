"""Command-line parsing, in process: usage errors are one redacted line."""

from __future__ import annotations

import socket

import pytest

from iovox_async.cli import call, main

SECRET = "parse-secret-9d1e"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("iovox: error: ")
    assert SECRET not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize(
    "arguments",
    [
        ["calls", "export", "x.csv", "--secure-kye", SECRET],
        ["calls", "export", "x.csv", f"--secure-kye={SECRET}"],
        ["recordings", "download", "--api-key", SECRET],
        ["call", "Calls", "getCallData", "--no-such-option", "1", "--secureKey", SECRET],
    ],
)
def test_a_misspelt_key_option_is_never_echoed(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert "unrecognized arguments" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["emulator", "serve", "--port", "99999"], "between 0 and 65535"),
        (["emulator", "serve", "--port", "http"], "not a whole number"),
        (["emulator", "serve", "--calls", "-1"], "at least 0"),
        (["emulator", "serve", "--days", "0"], "at least 1"),
        (["emulator", "serve", "--nodes", "x"], "not a whole number"),
        (["emulator", "serve", "--retry-after", "-3"], "at least 0"),
        (["emulator", "serve", "--error-rate", "2"], "between 0 and 1"),
        (["emulator", "serve", "--latency-ms", "20-5"], "latency"),
        (["demo", "--drop-rate", "-0.5"], "between 0 and 1"),
        (["demo", "--concurrency", "0"], "at least 1"),
        (["emulator"], "required"),
        ([], "required"),
    ],
)
def test_bad_arguments_are_one_line_with_status_2(
    arguments: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert fragment in one_error_line(capsys)


def test_a_busy_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["emulator", "serve", "--port", str(port), "--calls", "10"])
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in one_error_line(capsys)


def test_parameters_may_follow_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def record(args: object) -> int:
        seen["params"] = list(args.params)  # type: ignore[attr-defined]
        seen["json"] = args.json  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(call, "run_command", record)  # the handler, read when parsing
    assert main(["call", "Calls", "getCallData", "limit=2", "--json", "sdt=2026-01-01"]) == 0
    assert seen == {"params": ["limit=2", "sdt=2026-01-01"], "json": True}


def test_demo_and_serve_read_latency_alike() -> None:
    from iovox_async.cli import build_parser

    parser = build_parser()
    for command in (["demo"], ["emulator", "serve"]):
        assert parser.parse_args([*command, "--latency-ms", "5-50"]).latency_ms == (5.0, 50.0)
        assert parser.parse_args([*command, "--latency-ms", "7"]).latency_ms == (7.0, 7.0)
