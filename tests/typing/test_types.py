"""The generated types hold: mypy accepts the typed usage and rejects wrong usage, and
the values at run time (emulator over loopback, XML and JSON) have the stated types."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from iovox_async.interfaces.calls import CallDataResult
from iovox_async.testing import RunningEmulator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.11", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        check=False,
    )


@pytest.mark.timeout(300)
def test_mypy_accepts_the_typed_usage_and_rejects_the_wrong() -> None:
    good = mypy(HERE / "typed_usage.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy(HERE / "bad_usage.py")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert 'Incompatible types in assignment (expression has type "int | None"' in bad.stdout
    assert '"CallDataResult" has no key "call_strat"' in bad.stdout
    assert 'Unexpected keyword argument "page" for "iter_nodes"' in bad.stdout
    assert '"NodesResult" has no key "node_nmae"' in bad.stdout
    assert 'Unexpected keyword argument "limt"' in bad.stdout
    # The wrapped result keeps its TypedDict: the misspelt key fails there too.
    misspelt = [
        line for line in bad.stdout.splitlines() if "error:" in line and "call_strat" in line
    ]
    assert len(misspelt) == 2, bad.stdout


def matches(value: Any, annotation: Any) -> bool:
    """A runtime check of the simple annotations rows use (scalars, None, TypedDicts)."""
    if value is None:
        return type(None) in getattr(annotation, "__args__", ())
    options = getattr(annotation, "__args__", (annotation,))
    scalars = [option for option in options if option in (str, int, bool, dt.datetime, dt.date)]
    if scalars:
        return type(value) in scalars
    return isinstance(value, dict)


@pytest.mark.parametrize("output", ["XML", "JSON"])
async def test_rows_have_their_stated_types_at_run_time(output: str) -> None:
    hints = get_type_hints(CallDataResult)
    with RunningEmulator(calls=200, seed=5) as emulator:
        async with emulator.client() as iovox:
            page = await iovox.calls.get_call_data(
                sdt="2026-01-01",
                edt="2026-12-31",
                limit=50,
                order="cs_ASC",  # the bulk iterator's order
                output=output,  # type: ignore[arg-type]
            )
            assert type(page["total_results"]) is int
            rows = page["results"]["result"]
            assert rows
            typed = {"call_start", "call_time_sec", "has_recording", "email_sent"}
            seen: set[str] = set()
            for row in rows:
                for key, value in row.items():
                    assert matches(value, hints[key]), (key, value, hints[key])
                    if value is not None:
                        seen.add(key)
            assert typed <= seen
            bulk = [
                row async for row in iovox.bulk.iter_call_data(sdt="2026-01-01", edt="2026-12-31")
            ]
            assert bulk[:50] == rows
