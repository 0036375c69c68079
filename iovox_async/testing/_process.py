"""Run the emulator in a child process (for benchmarks: no GIL shared with the client).

The child is ``python -m iovox_async.emulator --child``: it reads the pickled
:class:`EmulatorConfig` (and host, port) from stdin, prints the bound port, and
serves until its stdin reaches end of file, which happens when the parent closes
it or dies. A plain subprocess, not ``multiprocessing``, so callers need no
``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from typing import IO

from ..emulator.config import EmulatorConfig


class ChildProcess:
    """An emulator server in a child process, stopped by closing its stdin."""

    def __init__(self, config: EmulatorConfig, host: str, port: int) -> None:
        self.config = config
        self.host = host
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float) -> int:
        """Start the child and return the port it listens on."""
        process = subprocess.Popen(
            [sys.executable, "-m", "iovox_async.emulator", "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._process = process
        try:
            stdin: IO[bytes] | None = process.stdin
            assert stdin is not None and process.stdout is not None
            pickle.dump((self.config, self.host, self.port), stdin)
            stdin.flush()
            stdout = process.stdout
            line: list[bytes] = []
            reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout)
            if not line or not line[0].strip().isdigit():
                raise RuntimeError(
                    f"the emulator process did not start within {timeout} s"
                    f" (exit code {process.poll()})"
                )
            self.port = int(line[0])
        except BaseException:
            self.stop()
            raise
        return self.port

    def stop(self) -> None:
        """Stop the child: closing its stdin makes it shut down by itself."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
