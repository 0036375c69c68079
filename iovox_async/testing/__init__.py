"""Helpers for testing code that uses iovox-async: a local emulator on loopback HTTP.

::

    from iovox_async.testing import run_emulator

    async def test_numbers():
        async with run_emulator(calls=200) as emulator, emulator.client() as iovox:
            page = await iovox.request("Voxnumbers", "getVoxnumbers")

With pytest, add ``pytest_plugins = ["iovox_async.testing.pytest_plugin"]`` to a
``conftest.py`` and take the ``iovox_emulator`` fixture.
"""

from __future__ import annotations

from ..emulator.config import DEFAULT_SECURE_KEY, DEFAULT_USERNAME, EmulatorConfig
from ..emulator.faults import FaultSettings, FaultSpec
from ._runner import RunningEmulator, run_emulator

__all__ = [
    "DEFAULT_SECURE_KEY",
    "DEFAULT_USERNAME",
    "EmulatorConfig",
    "FaultSettings",
    "FaultSpec",
    "RunningEmulator",
    "run_emulator",
]
