"""The README's call-flow example runs against the emulator as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from iovox_async import AsyncIovox
from iovox_async.testing import RunningEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = next(
    block
    for block in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    if "iovox_async.callflow" in block
)


async def test_the_call_flow_example(emulator: RunningEmulator) -> None:
    connect = (
        f"AsyncIovox(username={emulator.username!r}, secure_key={emulator.secure_key!r},"
        f" base_url={emulator.base_url!r})"
    )
    source = re.sub(r"AsyncIovox\([^()]*\)", connect, BLOCK)
    namespace: dict[str, Any] = {"AsyncIovox": AsyncIovox}
    exec(
        compile("async def example():\n" + textwrap.indent(source, "    "), "README", "exec"),
        namespace,
    )
    await namespace["example"]()
    assert "Sales line" in emulator.state.call_flows
    assert emulator.effects("CallFlow.updateCallFlow") == 1
