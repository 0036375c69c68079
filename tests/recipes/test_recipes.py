"""The README's recipes run: the web app under uvicorn, the worker stopped by SIGTERM.

The README shows the files in docs/recipes/ verbatim (checked here), so the code
people copy is the code these tests run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from iovox_async.testing import FaultSettings, FaultSpec, RunningEmulator

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "docs" / "recipes"
SECRET = "recipe-secret-key-51c2"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", RECIPES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def credentials(emulator: RunningEmulator) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("IOVOX_")}
    environ.update(
        IOVOX_USERNAME=emulator.username,
        IOVOX_SECURE_KEY=emulator.secure_key,
        IOVOX_BASE_URL=emulator.base_url,
    )
    return environ


def test_the_readme_shows_each_recipe_file_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r"<!-- recipe: (\S+) -->\n```python\n(.*?)```", readme, re.S))
    assert sorted(shown) == ["docs/recipes/queue_worker.py", "docs/recipes/web_app.py"]
    for path, block in shown.items():
        assert block == (ROOT / path).read_text(encoding="utf-8"), f"README drifted from {path}"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with RunningEmulator(calls=200, seed=4, secure_key=SECRET) as running:
        yield running


@pytest.fixture
def web_server(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The recipe's app under a real uvicorn server on loopback."""
    for name, value in credentials(emulator).items():
        if name.startswith("IOVOX_"):
            monkeypatch.setenv(name, value)
    app = load("web_app").app
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive()


def test_the_web_app_serves_from_one_client(web_server: str, emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=web_server, timeout=10) as http:
        answer = http.get("/calls", params={"sdt": "2000-01-01", "limit": "3"})
        assert answer.status_code == 200, answer.text
        calls = answer.json()["calls"]
        assert len(calls) == 3 and {"id", "call_start"} <= set(calls[0])
        before = emulator.stats()["total_requests"]
        for bad, fragment in (("limit=0", "limit must be at least 1"),
                              ("sdt=2026-13-01", "sdt must be a real date"),
                              ("limit=ten", "invalid literal")):  # fmt: skip
            answer = http.get(f"/calls?{bad}")
            assert answer.status_code == 400 and fragment in answer.json()["error"]
        assert emulator.stats()["total_requests"] == before  # refused before sending
    answers = []

    def fetch() -> None:
        with httpx.Client(base_url=web_server, timeout=10) as http:
            answers.append(http.get("/calls", params={"sdt": "2000-01-01", "limit": "2"}))

    threads = [threading.Thread(target=fetch) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [a.status_code for a in answers] == [200] * 12


def test_the_worker_finishes_jobs_in_flight_on_sigterm(tmp_path: Path) -> None:
    jobs = [f"N{n:04d}" for n in range(1, 41)]
    jobs.insert(3, "N9999")  # no such node: reported, the worker goes on
    (tmp_path / "jobs.txt").write_text("\n".join(jobs) + "\n", encoding="utf-8")
    slow = FaultSettings(default=FaultSpec(latency_ms=(80.0, 120.0)))
    with RunningEmulator(calls=0, seed=4, secure_key=SECRET, faults=slow) as emulator:
        process = subprocess.Popen(
            [sys.executable, str(RECIPES / "queue_worker.py"), str(tmp_path / "jobs.txt")],
            env=credentials(emulator),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line.rstrip("\n"))
            if sum(entry.startswith("done ") for entry in seen) >= 6:
                break
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # read on through the same buffered file: communicate() would skip its buffer
        rest = process.stdout.read()
        process.wait(20)
        assert process.stderr is not None
        err = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        stopped_in = time.monotonic() - signalled
    seen += rest.splitlines()
    assert process.returncode == 0, err
    assert err == ""
    started = [line.split()[1] for line in seen if line.startswith("start ")]
    finished = [
        line.split()[1].rstrip(":") for line in seen if line.startswith(("done ", "failed "))
    ]
    left = [line.split()[2] for line in seen if line.startswith("not started ")]
    assert sorted(started) == sorted(finished)  # every job in flight was finished
    assert left, "SIGTERM came early: some jobs must be left for the next run"
    assert sorted(finished + left) == sorted(jobs)  # none lost, none run twice
    assert any(line.startswith("failed N9999:") for line in seen)
    assert stopped_in < 5
