"""One client for the app's life against one client per request, in a real web app.

The README's Starlette recipe (docs/recipes/web_app.py) and the same route opening
its own ``AsyncIovox`` per request run under uvicorn (in a thread) against the
emulator (its own process, 5 ms added latency). A load generator sends N requests,
C at a time, to each in turn; the script prints seconds per run and the ratio.

    python benchmarks/web_clients.py              # N=200, C=10, best of 3
    python benchmarks/web_clients.py --requests 500 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from iovox_async import AsyncIovox
from iovox_async.testing import FaultSettings, FaultSpec, RunningEmulator

RECIPE = Path(__file__).resolve().parents[1] / "docs" / "recipes" / "web_app.py"


def recipe_app() -> Starlette:
    spec = importlib.util.spec_from_file_location("web_app", RECIPE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app: Starlette = module.app
    return app


async def per_request(request: Request) -> JSONResponse:
    """The same route, but with a client (and so a connection pool) of its own."""
    async with AsyncIovox() as iovox:
        page = await iovox.calls.get_call_data(
            sdt=request.query_params.get("sdt", "2026-11-01"),
            limit=int(request.query_params.get("limit", "10")),
            req_fields=["id", "cs", "vn", "call_res"],
        )
    return JSONResponse({"calls": page["results"]["result"]})


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


async def load(url: str, requests: int, concurrency: int) -> float:
    left = iter(range(requests))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def one_by_one() -> None:
            for _ in left:
                answer = await http.get("/calls", params={"sdt": "2000-01-01", "limit": "10"})
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one_by_one() for _ in range(concurrency)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    faults = FaultSettings(default=FaultSpec(latency_ms=(5.0, 5.0)))
    with RunningEmulator(calls=2000, process=True, faults=faults) as emulator:
        os.environ.update(
            IOVOX_USERNAME=emulator.username,
            IOVOX_SECURE_KEY=emulator.secure_key,
            IOVOX_BASE_URL=emulator.base_url,
        )
        apps = {
            "one client (recipe)": recipe_app(),
            "client per request": Starlette(routes=[Route("/calls", per_request)]),
        }
        servers = {name: serve(app) for name, app in apps.items()}
        best: dict[str, float] = {}
        for _ in range(args.rounds):  # interleaved, best of the rounds
            for name, (_, _, url) in servers.items():
                asyncio.run(load(url, args.concurrency, args.concurrency))  # warm up
                seconds = asyncio.run(load(url, args.requests, args.concurrency))
                best[name] = min(seconds, best.get(name, seconds))
        for server, thread, _ in servers.values():
            server.should_exit = True
            thread.join(10)
    for name, seconds in best.items():
        print(f"{name:22} {args.requests} requests in {seconds:.2f}s")
    ratio = best["client per request"] / best["one client (recipe)"]
    print(f"client per request / one client: {ratio:.1f}x slower")


if __name__ == "__main__":
    main()
