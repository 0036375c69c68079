"""mypy, in the venv that scripts/test.sh builds, sees the installed package.

setuptools' default editable install is an import hook that mypy cannot follow
(``import-not-found``); the scripts install with ``editable_mode=compat``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_CODE = """\
from iovox_async import AsyncIovox


async def newest_calls() -> list[str]:
    async with AsyncIovox(username="me", secure_key="key-1234") as iovox:
        fast = iovox.with_options(timeout=5)
        page = await fast.calls.get_call_data(limit=5, sdt="2026-10-01")
        return [str(row["id"]) for row in page["results"]["result"]]


async def mistakes() -> int:
    async with AsyncIovox() as iovox:
        page = await iovox.calls.get_call_data(limit="five")  # line 13: arg-type
        return page  # line 14: return-value
"""


def test_mypy_checks_user_code_outside_the_repository(tmp_path: Path) -> None:
    (tmp_path / "user_code.py").write_text(USER_CODE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "user_code.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    errors = sorted(line for line in done.stdout.splitlines() if ": error:" in line)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "import-not-found" not in done.stdout, done.stdout
    assert len(errors) == 2, done.stdout  # the good function type-checks cleanly
    assert errors[0].startswith('user_code.py:13: error: Argument "limit" to "get_call_data"')
    assert errors[1].startswith("user_code.py:14: error: Incompatible return value")
