"""``iovox emulator serve``: a real process on a free loopback port."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import httpx
import pytest

from iovox_async.cli import build_parser, main


def test_serve_runs_answers_and_stops_on_ctrl_c() -> None:
    faults = json.dumps({"methods": {"Countries.getCountries": {"error_rate": 1}}})
    command = [
        sys.executable, "-m", "iovox_async.cli", "emulator", "serve",
        "--port", "0", "--calls", "200", "--seed", "9",
        "--username", "cli-user", "--secure-key", "cli-key",
        "--latency-ms", "1-2", "--faults", faults,
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            banner = []
            for line in process.stdout:
                banner.append(line)
                if line.startswith("Press Ctrl+C"):
                    break
            text = "".join(banner)
            url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
            assert url is not None, text
            assert "cli-user" in text and "cli-key" in text and "latency_ms" in text
            headers = {"username": "cli-user", "secureKey": "cli-key"}
            with httpx.Client(base_url=url.group(1), headers=headers) as client:
                nodes = client.get("/Nodes", params={"v": 3, "method": "getNodes", "limit": 1})
                assert nodes.status_code == 200
                countries = client.get("/Countries", params={"v": 3, "method": "getCountries"})
                assert countries.status_code >= 500
                config = client.get("/_emulator/config").json()
                assert (config["seed"], config["calls"]) == (9, 200)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_bad_faults_json_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "serve", "--faults", '{"default": {"error_rate": 5}}']) == 2
    assert "bad --faults" in capsys.readouterr().err


def test_parser_has_room_for_more_groups() -> None:
    parser = build_parser()
    arguments = parser.parse_args(["emulator", "serve", "--port", "0", "--drop-rate", "0.5"])
    assert arguments.drop_rate == 0.5
    assert callable(arguments.handler)
