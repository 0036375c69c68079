"""``python -m iovox_async.emulator [serve options]``: the same as ``iovox emulator serve``.

With ``--child`` it is the child process of ``run_emulator(process=True)``: it reads
the pickled config, host and port from stdin, prints the bound port, and serves
until stdin reaches end of file (the parent closed it or died).
"""

from __future__ import annotations

import asyncio
import pickle
import sys
import threading

from .app import EmulatorApp
from .config import EmulatorConfig
from .server import EmulatorServer


async def serve_child(config: EmulatorConfig, host: str, port: int) -> None:
    """Serve until stdin closes; the first line printed is the port."""
    app = EmulatorApp(config)
    server = EmulatorServer(app, host, port, keepalive_timeout=config.keepalive_timeout)
    await server.start()
    print(server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str]) -> int:
    """Run as the child of ``run_emulator(process=True)``, or as ``iovox emulator serve``."""
    if argv[:1] == ["--child"]:
        # Only our own parent writes this pipe, so unpickling it is safe.
        config, host, port = pickle.load(sys.stdin.buffer)
        asyncio.run(serve_child(config, host, port))
        return 0
    from ..cli import main as cli_main

    return cli_main(["emulator", "serve", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
