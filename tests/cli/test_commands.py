"""The installed ``iovox`` console script: demo, calls export, recordings download,
numbers purchase, call, and one-line failures (run as subprocesses)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import FaultSettings, FaultSpec, RunningEmulator

BIN = Path(sys.executable).parent
SECRET = "cli-secret-key-7f3a9"
EVERYTHING = ["--sdt", "2000-01-01", "--edt", "2100-12-31"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    faults = FaultSettings(default=FaultSpec(error_rate=0.05, drop_rate=0.01))
    with RunningEmulator(calls=400, seed=5, secure_key=SECRET, faults=faults) as running:
        yield running


def cli_environment(emulator: RunningEmulator | None) -> dict[str, str]:
    """This process's environment without IOVOX_*, plus the emulator's credentials."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IOVOX_")}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"
    if emulator is not None:
        environ.update(
            IOVOX_USERNAME=emulator.username,
            IOVOX_SECURE_KEY=emulator.secure_key,
            IOVOX_BASE_URL=emulator.base_url,
        )
    return environ


def run(
    *args: str, emulator: RunningEmulator | None = None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = cli_environment(emulator)
    environ.update(env)
    return subprocess.run(
        ["iovox", *args], capture_output=True, text=True, env=environ, timeout=timeout, check=False
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("iovox: error: ")
    assert "Traceback" not in done.stderr + done.stdout
    assert SECRET not in done.stderr + done.stdout
    for fragment in fragments:
        assert fragment in lines[0]


def test_demo_runs_well_under_a_minute() -> None:
    started = time.monotonic()
    done = run("demo", timeout=90)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 45
    out = done.stdout
    assert "CDRs exported       2000 rows" in out
    assert "numbers purchased" in out and "1 reconciled after a lost answer" in out
    assert re.search(r"numbers purchased   3 items: 3 ok .*; 4 numbers bought: 44", out), out
    assert "click-to-call" in out and "retries taken" in out
    assert "Traceback" not in done.stderr


def test_demo_json_keeps_files_in_dest(tmp_path: Path) -> None:
    done = run("demo", "--calls", "300", "--dest", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["cdrs"]["rows"] == 300
    recordings = summary["recordings"]
    assert recordings["failed"] == recordings["unknown"] == 0
    assert recordings["ok"] + recordings["skipped"] == 300
    assert len(list((tmp_path / "recordings").iterdir())) == recordings["ok"]
    assert (tmp_path / "calls.csv").read_text(encoding="utf-8").count("\n") == 301
    assert summary["purchases"]["ok"] == 3 and summary["purchases"]["reconciled"] == 1
    assert summary["node_and_call"]["call"].startswith("ok")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]


def test_calls_export(emulator: RunningEmulator, tmp_path: Path) -> None:
    target = tmp_path / "calls.jsonl"
    done = run("calls", "export", str(target), *EVERYTHING, "--json", emulator=emulator)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rows"] == len(emulator.state.call_store)
    ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
    assert sorted(ids) == sorted(row[0] for row in emulator.state.call_store.rows)
    done = run(
        "calls", "export", str(tmp_path / "answered.csv"), *EVERYTHING,
        "--filter", "call_res=ANSWERED", emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("exported ")


def test_recordings_download(emulator: RunningEmulator, tmp_path: Path) -> None:
    rows = emulator.state.call_store.rows
    recorded = [row[0] for row in rows if row[INDEX["has_recording"]] == "1"]
    done = run("recordings", "download", str(tmp_path), *EVERYTHING, "--json", emulator=emulator)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["counts"]["downloaded"] == len(recorded)
    assert data["counts"]["no_recording"] == len(rows) - len(recorded)
    assert data["failures"] == [] and "items" not in data  # small unless --verbose
    assert sorted(p.stem for p in tmp_path.iterdir()) == sorted(recorded)
    # By id: one is there already, one has no recording; an unknown id fails (exit 1).
    missing = next(row[0] for row in rows if row[INDEX["has_recording"]] == "0")
    done = run(
        "recordings", "download", str(tmp_path), "--id", f"{recorded[0]},{missing},999",
        emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 1
    assert "0 downloaded (0.0 MB), 1 already on disk, 1 without a recording, 1 failed in" in (
        done.stdout
    )
    assert "failed: 999:" in done.stdout


def test_numbers_purchase(emulator: RunningEmulator) -> None:
    item = "country_code=44,area_code=121,number_type=GEOGRAPHIC,quantity=2"
    done = run("numbers", "purchase", "--item", item, "--dry-run", "--json", emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["skipped"] == 1
    assert emulator.requests("Purchase.purchaseVoxNumbers") == 0
    done = run("numbers", "purchase", "--item", item, "--json", emulator=emulator)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data["bought"]) == 2 and all(n.startswith("44121") for n in data["bought"])
    assert emulator.requests("Purchase.purchaseVoxNumbers") == 1
    assert emulator.effects("Purchase.purchaseVoxNumbers") == 1
    done = run("numbers", "purchase", "--item", "country_code=44,quantity=1", emulator=emulator)
    assert done.returncode == 1
    assert "number_type must be one of" in done.stdout
    big = "country_code=44,area_code=20,number_type=GEOGRAPHIC,quantity=5000"
    done = run("numbers", "purchase", "--item", big, emulator=emulator)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    (order,) = [line for line in lines if line.startswith("  order ")]
    assert re.fullmatch(
        r"  order \S+ PENDING; \d+ of 5000 so far: 5000 GEOGRAPHIC numbers in \+44 20", order
    ), order
    assert re.fullmatch(r"  \.\.\. and \d+ more \(all of them with --json\)", lines[-1])


def test_call_any_method(emulator: RunningEmulator, tmp_path: Path) -> None:
    done = run("call", "Calls", "getCallData", "limit=2", "sdt=2000-01-01", emulator=emulator)
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)
    assert len(page["results"]["result"]) == 2
    done = run("call", "voxnumbers", "get_voxnumbers", "limit=1", emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["results"]["result"]) == 1
    recorded = next(
        row[0] for row in emulator.state.call_store.rows if row[INDEX["has_recording"]] == "1"
    )
    target = tmp_path / "one.mp3"
    done = run(
        "call", "calls", "getCallRecording", f"id={recorded}", "--output", str(target),
        emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bytes"] == target.stat().st_size > 0
    node = {
        "node": {
            "node_id": "CLI-N1",
            "node_name": "CLI shop",
            "node_type": "Shop",
            "links": {"link": [{"link_id": "CLI-L1", "link_name": "Web", "link_type": "Web",
                                "rule_template_name": "Call Sales"}]},
        }
    }  # fmt: skip
    done = run("call", "Nodes", "createNodeFull", "--payload", json.dumps(node), emulator=emulator)
    assert done.returncode == 0, done.stderr
    assert "CLI-L1" in done.stdout
    done = run(
        "call", "Calling", "initiateCall", "link_id=CLI-L1",
        'call_variables:={"call_destination": "447700900123"}', emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 0 or "may or may not have been applied" in done.stderr, done.stderr
    assert emulator.effects("Calling.initiateCall") <= 1
    listing = run("call", "--list")
    assert listing.returncode == 0 and "Purchase purchaseVoxNumbers" in listing.stdout


@pytest.mark.parametrize(
    ("args", "env", "fragments"),
    [
        (["call", "Calls", "getCallData"], {"IOVOX_SECURE_KEY": "wrong-key"}, ["HTTP 401"]),
        (["call", "Calls", "noSuchMethod"], {}, ["Calls has no method 'noSuchMethod'"]),
        (["call", "Nodes", "getNodeDetails"], {}, ["needs node_id"]),
        (["calls", "export", "x.csv", "--filter", "oops"], {}, ["expected NAME=VALUE"]),
        (["numbers", "purchase"], {}, ["nothing to buy"]),
        (["recordings", "download", "never-made"], {}, ["give call ids", "or a range"]),
        (
            ["recordings", "download", "never-made", "--id", "1", "--sdt", "2026-10-01"],
            {},
            ["not both"],
        ),
        (["calls", "export", "never.csv", "--sdt", "2026-02-30"], {}, ["real date"]),
        (["calls", "export", "/proc/x.csv", "--sdt", "2026-10-01"], {}, ["cannot write /proc/x"]),
        (["call", "Nodes", "createNodeFull", "--payload", "{bad"], {}, ["--payload is not valid"]),
        (["call", "Calls", "getCallData", "--timeout", "0"], {}, ["timeout must be positive"]),
    ],
)
def test_failures_exit_nonzero_with_one_line(
    emulator: RunningEmulator, args: list[str], env: dict[str, str], fragments: list[str]
) -> None:
    assert_one_line_error(run(*args, emulator=emulator, **env), *fragments)
    assert not Path("never-made").exists() and not Path("never.csv").exists()


def test_connection_and_credential_failures(tmp_path: Path) -> None:
    refused = run(
        "calls", "export", str(tmp_path / "x.csv"), "--base-url", "http://127.0.0.1:9",
        "--username", "u", "--secure-key", SECRET, "--timeout", "2",
    )  # fmt: skip
    assert_one_line_error(refused, "getCallData")
    assert not list(tmp_path.iterdir())
    missing = run("call", "Calls", "getCallData", "--base-url", "http://127.0.0.1:9")
    assert_one_line_error(missing, "username is required: give --username or set IOVOX_USERNAME")


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_stopped_download_leaves_no_partial_file(stop: str, tmp_path: Path) -> None:
    import signal

    faults = FaultSettings(default=FaultSpec(latency_ms=(30.0, 60.0)))
    with RunningEmulator(calls=400, seed=9, secure_key=SECRET, faults=faults) as slow:
        process = subprocess.Popen(
            ["iovox", "recordings", "download", str(tmp_path), *EVERYTHING, "--concurrency", "4"],
            env=cli_environment(slow),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not any(p.name.endswith(".part") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        process.send_signal(getattr(signal, stop))
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip() == "iovox: interrupted"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
