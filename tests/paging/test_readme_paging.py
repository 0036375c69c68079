"""The README's paging example runs against the emulator as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from iovox_async.testing import RunningEmulator

README = Path(__file__).resolve().parents[2] / "README.md"


def paging_example() -> str:
    text = README.read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```py\n(.*?)```", text, re.S) if ".iter_nodes(" in b]
    return textwrap.dedent(block)


async def test_the_readme_paging_example(lists_emulator: RunningEmulator) -> None:
    source = paging_example()
    body = textwrap.indent(source + "\nreturn locals()\n", "    ")
    namespace: dict[str, Any] = {}
    exec(compile(f"async def example(iovox):\n{body}", str(README), "exec"), namespace)
    async with lists_emulator.client() as iovox:
        expected = next(
            row
            for row in (await iovox.nodes.get_nodes(limit=5000))["results"]["result"]
            if row["node_type"] == "Restaurant"
        )
        result = await namespace["example"](iovox)
    assert result["first_restaurant"] == expected
