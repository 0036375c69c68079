"""Killed with SIGKILL mid-job, then ``--resume``: the same output, fewer requests, no litter."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iovox_async.emulator.audio import recording_bytes
from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import FaultSettings, FaultSpec, RunningEmulator

from .test_commands import EVERYTHING, SECRET, cli_environment, run

SLOW = FaultSettings(default=FaultSpec(latency_ms=(15.0, 25.0)))


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=500, seed=21, secure_key=SECRET, faults=SLOW) as running:
        yield running


def requests(emulator: RunningEmulator, key: str) -> int:
    return int(emulator.stats()["requests"].get(key, 0))


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


def kill_when(
    emulator: RunningEmulator, args: list[str], ready: Callable[[], bool]
) -> subprocess.CompletedProcess[str]:
    """Run ``iovox *args`` and SIGKILL it as soon as ``ready()``."""
    process = subprocess.Popen(
        ["iovox", *args],
        env=cli_environment(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the job never got far enough"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    settle(emulator)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def settle(emulator: RunningEmulator) -> None:
    """Wait until requests the killed process had already sent are all counted, so
    none of them is counted against the next run (a loaded machine can be slow)."""
    deadline = time.monotonic() + 5
    last = emulator.stats()["requests"]
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = emulator.stats()["requests"]
        if now == last:
            return
        last = now


def head_state(parts: Path) -> tuple[int, int, int] | None:
    """(windows in the head, bytes its name vouches for, bytes it has), if it is there."""
    for path in parts.glob("head-*") if parts.is_dir() else ():
        _, windows, _, size = path.stem.split("-")
        try:
            return int(windows), int(size), path.stat().st_size
        except FileNotFoundError:  # renamed just now: look again
            return None
    return None


def two_windows_in_the_head(parts: Path) -> bool:
    state = head_state(parts)
    return state is not None and state[0] >= 2


def parts_and_temporaries(parts: Path) -> bool:
    """A window finished in a part file and another one still in a temporary file."""
    names = [p.name for p in parts.iterdir()] if parts.is_dir() else []
    finished = [n for n in names if n.startswith("w") and "-" in n]
    return len(finished) >= 1 and any(n.endswith(".part") for n in names)


@pytest.mark.parametrize(
    ("windows", "killed_when"), [("1", two_windows_in_the_head), ("3", parts_and_temporaries)]
)
def test_a_killed_export_resumes_to_the_same_bytes(
    emulator: RunningEmulator,
    tmp_path: Path,
    windows: str,
    killed_when: Callable[[Path], bool],
) -> None:
    options = [*EVERYTHING, "--page-size", "25", "--window-rows", "60", "--windows", windows]
    reference = tmp_path / "reference.csv"
    before = requests(emulator, "Calls.getCallData")
    assert run("calls", "export", str(reference), *options, emulator=emulator).returncode == 0
    whole_run = requests(emulator, "Calls.getCallData") - before

    target = tmp_path / "calls.csv"
    parts = tmp_path / "calls.csv.parts"
    kill_when(emulator, ["calls", "export", str(target), *options], lambda: killed_when(parts))
    assert not target.exists()
    if windows != "1":
        assert temporaries(tmp_path), "the killed run left its temporary file"

    before = requests(emulator, "Calls.getCallData")
    done = run("calls", "export", str(target), *options, "--resume", emulator=emulator)
    assert done.returncode == 0, done.stderr
    resumed_run = requests(emulator, "Calls.getCallData") - before
    assert target.read_bytes() == reference.read_bytes()
    assert resumed_run < whole_run
    assert temporaries(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "reference.csv"]


def test_resume_refuses_other_arguments(emulator: RunningEmulator, tmp_path: Path) -> None:
    target = tmp_path / "calls.jsonl"
    options = [*EVERYTHING, "--page-size", "25", "--window-rows", "60", "--windows", "1"]
    parts = tmp_path / "calls.jsonl.parts"
    kill_when(
        emulator,
        ["calls", "export", str(target), *options],
        lambda: any("-" in p.name for p in parts.iterdir()) if parts.is_dir() else False,
    )
    done = run(
        "calls", "export", str(target), *EVERYTHING, "--filter", "call_res=ANSWERED",
        "--resume", emulator=emulator,
    )  # fmt: skip
    assert done.returncode == 1
    assert "other arguments" in done.stderr
    assert parts.is_dir()  # nothing lost


def test_a_killed_download_resumes(emulator: RunningEmulator, tmp_path: Path) -> None:
    rows = emulator.state.call_store.rows
    recorded = {row[0]: row for row in rows if row[INDEX["has_recording"]] == "1"}
    ids = ",".join(sorted(recorded))
    dest = tmp_path / "recs"

    def some_done_some_open() -> bool:
        names = [p.name for p in dest.iterdir()] if dest.is_dir() else []
        return sum(n.endswith(".mp3") for n in names) >= 5 and any(
            n.endswith(".part") for n in names
        )

    before = requests(emulator, "Calls.getCallRecording")
    args = ["recordings", "download", str(dest), "--id", ids, "--concurrency", "4"]
    kill_when(emulator, args, some_done_some_open)
    first = requests(emulator, "Calls.getCallRecording") - before
    assert temporaries(dest)

    before = requests(emulator, "Calls.getCallRecording")
    done = run(*args, "--resume", "--json", emulator=emulator)
    assert done.returncode == 0, done.stderr
    second = requests(emulator, "Calls.getCallRecording") - before
    report = json.loads(done.stdout)
    assert report["counts"]["already_on_disk"] >= 5
    assert report["counts"]["downloaded"] + report["counts"]["already_on_disk"] == len(recorded)
    assert second == report["counts"]["downloaded"] < len(recorded)
    assert first + second >= len(recorded)
    assert temporaries(dest) == []
    for call_id, row in recorded.items():
        expected = recording_bytes(21, call_id, int(row[INDEX["talk_time_sec"]]))
        assert (dest / f"{call_id}.mp3").read_bytes() == expected
