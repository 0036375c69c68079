"""``iovox calls sync --state FILE PATH``: two runs append exactly the new CDRs."""

from __future__ import annotations

import json
from pathlib import Path

from iovox_async.testing import RunningEmulator

from ..bulk.live import existing_ids, insert_call
from .test_commands import SECRET, run


def test_sync_twice_appends_only_the_new_calls(tmp_path: Path) -> None:
    target, state = tmp_path / "calls.jsonl", tmp_path / "sync.json"
    with RunningEmulator(calls=150, seed=4, secure_key=SECRET) as emulator:
        args = ["calls", "sync", str(target), "--state", str(state), "--json"]
        first = run(*args, "--sdt", "2000-01-01", emulator=emulator)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["rows"] == 150
        added = {insert_call(emulator, "2026-10-14 23:59:00") for _ in range(3)}
        second = run(*args, emulator=emulator)
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["rows"] == 3
        ids = [json.loads(line)["id"] for line in target.read_text().splitlines()]
        assert len(ids) == len(set(ids)) and set(ids) == existing_ids(emulator)
        assert set(ids[-3:]) == added
        saved = json.loads(state.read_text())
        assert saved["size"] == target.stat().st_size
        assert SECRET not in state.read_text()
        no_state = run("calls", "sync", str(target), "--state", str(tmp_path / "x.json"),
                       "--sdt", "2000-01-01", emulator=emulator)  # fmt: skip
        assert no_state.returncode == 1 and "exists but" in no_state.stderr
