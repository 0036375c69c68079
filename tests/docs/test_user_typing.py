"""mypy, in the venv that scripts/test.sh builds, sees the installed package.

setuptools' default editable install is an import hook that mypy cannot follow
(``import-not-found``); the scripts install with ``editable_mode=compat``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GOOD = """\
from iovox_async import AsyncIovox


async def newest_calls() -> list[str]:
    async with AsyncIovox(username="me", secure_key="key-1234") as iovox:
        fast = iovox.with_options(timeout=5)
        page = await fast.calls.get_call_data(limit=5, sdt="2026-10-01")
        return [str(row["id"]) for row in page["results"]["result"]]
"""

BAD = """\
from iovox_async import AsyncIovox


async def newest_calls() -> int:
    async with AsyncIovox(username="me", secure_key="key-1234") as iovox:
        page = await iovox.calls.get_call_data(limit="five")
        return page
"""


def mypy(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    (folder / "user_code.py").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(folder.parent / "cache"),
         "user_code.py"],
        cwd=folder, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


def test_mypy_checks_user_code_outside_the_repository(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    done = mypy(good, GOOD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout
    done = mypy(bad, BAD)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "import-not-found" not in done.stdout
    assert 'Argument "limit" to "get_call_data" of "CallsInterface" has incompatible type' in (
        done.stdout
    )
    assert "[return-value]" in done.stdout
