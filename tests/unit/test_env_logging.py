"""``IOVOX_LOG=debug|info`` turns the library's logging on, on stderr, keys redacted."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from iovox_async import _logging
from iovox_async.testing import FaultSettings, RunningEmulator

SECRET = "log-secret-key-4b7e1"

SCRIPT = """
import asyncio, logging, os, sys
from iovox_async import AsyncIovox

async def main():
    async with AsyncIovox(base_url=os.environ["BASE"]) as iovox:
        await iovox.countries.get_countries()
        await iovox.calls.get_call_data(limit=2, sdt="2000-01-01")
    # a record that carries the key, from the package logger and from a child logger
    logging.getLogger("iovox_async").warning("key is %s", os.environ["IOVOX_SECURE_KEY"])
    logging.getLogger("iovox_async.emulator").warning("child %s", os.environ["IOVOX_SECURE_KEY"])
    print(len(logging.getLogger().handlers), len(logging.getLogger("iovox_async").handlers))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    # the first getCountries answers 500 (replayed for each script run), so it is retried once
    faults = FaultSettings(script={"Countries.getCountries": ("500",)})
    with RunningEmulator(calls=20, secure_key=SECRET, faults=faults) as running:
        yield running


def run_script(emulator: RunningEmulator, level: str | None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IOVOX_")}
    environ.update(
        BASE=emulator.base_url, IOVOX_USERNAME=emulator.username, IOVOX_SECURE_KEY=SECRET
    )
    if level is not None:
        environ["IOVOX_LOG"] = level
    emulator.reset(state=False, stats=False, faults=True)
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environ, timeout=60
    )


def test_debug_logs_every_attempt_to_stderr_without_the_key(emulator: RunningEmulator) -> None:
    done = run_script(emulator, "DEBUG")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(
        "DEBUG iovox_async: GET Countries.getCountries attempt 1: HTTP 5" in line for line in lines
    )
    assert any("GET Countries.getCountries attempt 2: HTTP 200" in line for line in lines), lines
    assert any("INFO iovox_async: Countries.getCountries: retry 1 of 4" in line for line in lines)
    assert any("GET Calls.getCallData attempt 1: HTTP 200" in line for line in lines)
    assert any("key is ***" in line for line in lines) and any(
        "child ***" in line for line in lines
    )
    assert SECRET not in done.stderr + done.stdout
    assert done.stdout.split() == ["0", "1"]  # no root handler; one on the package logger


def test_info_shows_retries_but_not_attempts(emulator: RunningEmulator) -> None:
    done = run_script(emulator, "info")
    assert done.returncode == 0, done.stderr
    assert "retry 1 of 4" in done.stderr and "attempt 1" not in done.stderr
    assert SECRET not in done.stderr


def test_without_the_variable_nothing_is_printed(emulator: RunningEmulator) -> None:
    done = run_script(emulator, None)
    assert done.returncode == 0, done.stderr
    assert "getCountries" not in done.stderr and done.stdout.split() == ["0", "0"]


def test_it_is_idempotent_and_a_bad_value_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("iovox_async")
    before, level = list(logger.handlers), logger.level
    try:
        monkeypatch.setenv("IOVOX_LOG", "debug")
        _logging.configure_from_environment()
        _logging.configure_from_environment()
        added = [h for h in logger.handlers if h not in before]
        assert len(added) == 1 and logger.level == logging.DEBUG
        monkeypatch.setenv("IOVOX_LOG", "loud")
        with pytest.warns(UserWarning, match="IOVOX_LOG='loud' is not debug or info"):
            _logging.configure_from_environment()
    finally:
        logger.handlers[:] = before
        logger.setLevel(level)
