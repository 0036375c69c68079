"""Plumbing shared by the ``iovox`` commands that talk to the API.

Every such command prints a one-line error and exits non-zero on failure (never a
traceback, never the secure key), takes its credentials from options or
``IOVOX_USERNAME`` / ``IOVOX_SECURE_KEY`` / ``IOVOX_ENVIRONMENT`` / ``IOVOX_BASE_URL``,
and prints JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .._errors import IovoxError, ValidationError
from .._redact import redact, register_secret

if TYPE_CHECKING:
    from .._client import AsyncIovox
    from ..bulk import BulkReport

Runner = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
ProgressFn = Callable[[int, "int | None"], object]
Subparsers = Any
"""``argparse._SubParsersAction`` (private in the standard library)."""

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def share(text: str) -> float:
    """An argument type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def latency(text: str) -> tuple[float, float]:
    """An argument type: milliseconds, fixed ``A`` or a range ``A-B``."""
    from ..emulator.faults import parse_latency

    try:
        return parse_latency(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argument type: a whole number from ``minimum`` (to ``maximum``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


def connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--username", help="API username (default: $IOVOX_USERNAME)")
    group.add_argument(
        "--secure-key", help="API secure key (default: $IOVOX_SECURE_KEY; prefer the variable)"
    )
    group.add_argument(
        "--environment", help="sandbox or production (default: $IOVOX_ENVIRONMENT or sandbox)"
    )
    group.add_argument("--base-url", help="any other server, e.g. a local emulator")
    group.add_argument(
        "--max-concurrency", type=whole(1), default=64, help="requests in flight (default 64)"
    )
    group.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parent.add_argument("--json", action="store_true", help="print the result as JSON")
    return parent


def make_client(args: argparse.Namespace) -> AsyncIovox:
    """An ``AsyncIovox`` from the connection options (falling back to the environment)."""
    from .. import _constants as C
    from .._client import AsyncIovox

    for option, variable, what in (
        ("--username", C.ENV_USERNAME, "username"),
        ("--secure-key", C.ENV_SECURE_KEY, "secure key"),
    ):
        if not (getattr(args, option[2:].replace("-", "_")) or os.environ.get(variable)):
            raise ValidationError(f"the {what} is required: give {option} or set {variable}")
    return AsyncIovox(
        args.username,
        args.secure_key,
        environment=args.environment,
        base_url=args.base_url,
        max_concurrency=args.max_concurrency,
        timeout=args.timeout,
    )


def one_line(error: BaseException) -> str:
    """An error as one line, without any secret."""
    text = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, (IovoxError, OSError)):
        text = f"{type(error).__name__}: {text}"
    return redact(text)


def fail(message: str, status: int = EXIT_FAILED) -> int:
    """Print ``message`` as the command's one-line error; return ``status``."""
    print(f"iovox: error: {redact(' '.join(message.split()))}", file=sys.stderr)
    return status


async def _stoppable(runner: Runner, args: argparse.Namespace) -> int:
    """Run the command; SIGTERM (``kill``, ``timeout``) cancels it as Ctrl-C does, so
    temporary files are removed on the way out."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    return await runner(args)


def run_command(args: argparse.Namespace) -> int:
    """Run the command chosen on the command line; return the exit status."""
    for secret in (getattr(args, "secure_key", None), os.environ.get("IOVOX_SECURE_KEY")):
        if secret:
            register_secret(secret)
    runner: Runner = args.iovox_runner
    try:
        result: int = asyncio.run(_stoppable(runner, args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("iovox: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # every failure: one line, no traceback
        return fail(one_line(error))
    return int(result or 0)


def emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    """Print ``data`` as JSON with ``--json``, else the human lines."""
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        for line in lines:
            print(line)


@contextmanager
def progress_bar(args: argparse.Namespace, description: str) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr (only on a terminal, without ``--json``)."""
    if args.json or not sys.stderr.isatty():
        yield None
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:  # rich is in the [cli] extra
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


class Transfer:
    """Files and bytes done so far, for a progress display (and the final line)."""

    def __init__(self, total_files: int | None) -> None:
        self.total_files = total_files
        self.files = 0
        self.bytes = 0
        self.started = time.perf_counter()

    def rate(self) -> float:
        """Bytes per second so far."""
        return rate(self.bytes, time.perf_counter() - self.started)

    def describe(self) -> str:
        """``12.3 MB, 4.1 MB/s``."""
        return f"{self.bytes / 1e6:.1f} MB, {self.rate() / 1e6:.1f} MB/s"


@contextmanager
def transfer_progress(
    args: argparse.Namespace, description: str, total_files: int | None
) -> Iterator[Callable[[int], None]]:
    """A progress bar of files (with bytes, rate and ETA) on stderr, on a terminal.

    Yields ``advance(nbytes)``, to call once per file that is done (0 bytes for one
    already on disk or failed).
    """
    transfer = Transfer(total_files)
    bar: Any = None
    task: Any = None
    if not args.json and sys.stderr.isatty():
        with contextlib.suppress(ImportError):  # rich is in the [cli] extra
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files  {task.fields[detail]}  ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            task = bar.add_task(description, total=total_files, detail=transfer.describe())

    def advance(nbytes: int) -> None:
        transfer.files += 1
        transfer.bytes += nbytes
        if bar is not None:
            bar.update(task, completed=transfer.files, detail=transfer.describe())

    if bar is None:
        yield advance
        return
    with bar:
        yield advance


def report_problems(report: BulkReport[Any], limit: int = 10) -> list[str]:
    """Up to ``limit`` lines naming the items that failed or whose outcome is unknown."""
    lines: list[str] = []
    for result in report.results:
        if result.status in ("failed", "unknown") and len(lines) < limit:
            lines.append(f"  {result.status}: {result.item}: {result.reason}")
    return lines


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def parse_filters(pairs: list[str]) -> dict[str, str]:
    filters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValidationError(f"expected NAME=VALUE, got {pair!r}")
        filters[name.strip()] = value
    return filters


def range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sdt", help="calls since (YYYY-MM-DD[ HH:MM:SS])")
    parser.add_argument("--edt", help="calls before (YYYY-MM-DD[ HH:MM:SS])")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other getCallData filter, e.g. --filter call_res=ANSWERED",
    )
    parser.add_argument(
        "--page-size", type=whole(1, 20000), default=5000, help="rows per page (1-20000)"
    )


def range_filters(args: argparse.Namespace) -> dict[str, Any]:
    filters: dict[str, Any] = parse_filters(args.filter)
    for name in ("sdt", "edt"):
        if getattr(args, name):
            filters[name] = getattr(args, name)
    return filters
