"""The README's sharding recipe end to end: a real Redis, two arq worker processes,
the windows of one export spread over them, merged into the one-process bytes."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iovox_async.bulk import Bulk
from iovox_async.testing import RunningEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
EVERYTHING = {"sdt": "2000-01-01", "edt": "2100-12-31"}


def recipe() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (block,) = [block for block in blocks if block.startswith("# shard.py")]
    return block


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing; scripts/test.sh installs it")
        pytest.skip("redis-server is not installed (scripts/test.sh installs it as root)")
    return found


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, stopped afterwards."""
    if os.environ.get("CI") != "true":  # in CI a missing arq fails at the import below
        pytest.importorskip("arq")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    server = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as ping:
                    ping.sendall(b"PING\r\n")
                    if ping.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def start_worker(folder: Path, environ: dict[str, str]) -> subprocess.Popen[str]:
    """An arq worker process running the recipe's WorkerSettings."""
    return subprocess.Popen(
        [sys.executable, "-m", "arq", "shard.WorkerSettings"],
        cwd=folder,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_arq_recipe_shards_an_export(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "shard.py").write_text(recipe(), encoding="utf-8")
    with RunningEmulator(calls=700, seed=17) as emulator:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("IOVOX_")}
        environ.update(
            IOVOX_USERNAME=emulator.username,
            IOVOX_SECURE_KEY=emulator.secure_key,
            IOVOX_BASE_URL=emulator.base_url,
            REDIS_URL=redis_url,
            PYTHONPATH=str(tmp_path),
        )
        workers = [start_worker(tmp_path, environ) for _ in range(2)]
        try:
            single = tmp_path / "single.csv"
            async with emulator.client() as client:
                await Bulk(client).export_call_data(single, **EVERYTHING)
            old = dict(os.environ)
            os.environ.update(environ)
            sys.path.insert(0, str(tmp_path))
            try:
                import shard  # type: ignore[import-not-found]

                sharded = tmp_path / "sharded.csv"
                rows = await shard.export(str(sharded), window_rows=90, **EVERYTHING)
            finally:
                sys.path.remove(str(tmp_path))
                sys.modules.pop("shard", None)
                os.environ.clear()
                os.environ.update(old)
            assert rows == 700
            assert sharded.read_bytes() == single.read_bytes()
            assert not (tmp_path / "sharded.csv.parts").exists()
            # both workers took windows: each logs the jobs it ran
        finally:
            logs = []
            for worker in workers:
                worker.terminate()
                logs.append(worker.communicate(timeout=20)[1])
    ran = [log.count("export_window(") for log in logs]
    assert sum(ran) >= 8 and all(ran), logs
