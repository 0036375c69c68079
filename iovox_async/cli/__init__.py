"""The ``iovox`` command.

Each command group adds itself to the parser through one function in
:data:`COMMAND_GROUPS` (``add_..._command(s)(subparsers)``) and sets a ``handler``
that takes the parsed arguments and returns the exit status, so new groups are added
without touching the others.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ._common import Subparsers
from .call import add_call_command
from .demo import add_demo_command
from .emulator import add_emulator_commands
from .jobs import add_job_commands

COMMAND_GROUPS: list[Callable[[Subparsers], None]] = [
    add_emulator_commands,
    add_demo_command,
    add_job_commands,
    add_call_command,
]
"""Functions that add one command group each; append new groups here."""


def build_parser() -> argparse.ArgumentParser:
    """The ``iovox`` argument parser with every command group."""
    parser = argparse.ArgumentParser(
        prog="iovox", description="IOVOX Enterprise REST API v3 tools."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_group in COMMAND_GROUPS:
        add_group(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``iovox`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return int(handler(args))
