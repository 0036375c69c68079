"""The README's Python examples run against the emulator as written.

Only the connection is swapped: ``AsyncIovox(...)`` points at a local emulator whose
seeded calls cover the example dates (November 2026).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from iovox_async import AsyncIovox
from iovox_async.emulator.calldata import INDEX
from iovox_async.testing import RunningEmulator, run_emulator

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
CONSTRUCTOR = re.compile(r"AsyncIovox\([^()]*\)")


def test_the_readme_has_its_examples() -> None:
    assert len(BLOCKS) >= 3
    assert all(CONSTRUCTOR.search(block) for block in BLOCKS[:2])


async def _run(source: str, namespace: dict[str, Any]) -> None:
    body = textwrap.indent(source, "    ")
    exec(compile(f"async def __example():\n{body}\n", str(README), "exec"), namespace)
    await namespace["__example"]()


@pytest.fixture
async def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)  # the examples write calls.csv and recordings/
    async with run_emulator(calls=300, seed=11, reference_date="2026-11-26") as running:
        yield running


def _connect(emulator: RunningEmulator) -> str:
    return (
        f"AsyncIovox(username={emulator.username!r}, secure_key={emulator.secure_key!r},"
        f" base_url={emulator.base_url!r})"
    )


async def test_quick_start(emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    source = CONSTRUCTOR.sub(_connect(emulator), BLOCKS[0]).replace("asyncio.run(main())", "")
    namespace: dict[str, Any] = {}
    await _run(source + "\nawait main()\n", namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(
        re.fullmatch(r"\S+ 2026-11-\d\d \d\d:\d\d:\d\d", line) for line in printed
    )


async def test_bulk_recipes(emulator: RunningEmulator, tmp_path: Path) -> None:
    rows = emulator.state.call_store.rows
    recorded = [row[0] for row in rows if row[INDEX["has_recording"]] == "1"][:5]
    namespace: dict[str, Any] = {
        "AsyncIovox": AsyncIovox,
        "call_ids": recorded,
        "node_ids": ["N0001", "N0002"],
    }
    await _run(CONSTRUCTOR.sub(_connect(emulator), BLOCKS[1]), namespace)
    assert (tmp_path / "calls.csv").stat().st_size > 0
    assert len(list((tmp_path / "recordings").iterdir())) == len(recorded) == 5
    assert emulator.effects("Purchase.purchaseVoxNumbers") == 1
