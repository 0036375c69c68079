"""The ``iovox`` command.

Each command group adds itself to the parser through one function in
:data:`COMMAND_GROUPS` (``add_..._command(s)(subparsers)``) and sets a ``handler``
that takes the parsed arguments and returns the exit status, so new groups are added
without touching the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from .._redact import redact, register_secret
from ._common import EXIT_USAGE, Subparsers
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


class _Parser(argparse.ArgumentParser):
    """Usage errors as one redacted line (subcommand parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        line = redact(" ".join(message.split()))
        self.exit(EXIT_USAGE, f"iovox: error: {line} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``iovox`` argument parser with every command group."""
    parser = _Parser(prog="iovox", description="IOVOX Enterprise REST API v3 tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_group in COMMAND_GROUPS:
        add_group(subparsers)
    return parser


def _masked(extra: list[str]) -> str:
    """Unknown arguments for an error line, without the value of any unknown option.

    A misspelt ``--secure-kye X`` must not print ``X``.
    """
    shown: list[str] = []
    for position, token in enumerate(extra):
        name, sep, _ = token.partition("=")
        if name.startswith("-") and sep:
            shown.append(f"{name}=***")
        elif position and extra[position - 1].startswith("-") and "=" not in extra[position - 1]:
            shown.append("***")
        else:
            shown.append(token)
    return " ".join(shown)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``iovox`` command; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("IOVOX_SECURE_KEY"):
        register_secret(os.environ["IOVOX_SECURE_KEY"])
    parser = build_parser()
    args, extra = parser.parse_known_args(arguments)
    if extra and getattr(args, "params", None) is not None and "=" in extra[0]:
        # ``iovox call I M a=1 --json b=2``: NAME=VALUE after an option
        args.params.extend(token for token in extra if "=" in token and token[0] != "-")
        extra = [token for token in extra if "=" not in token or token[0] == "-"]
    if extra:
        parser.error(f"unrecognized arguments: {_masked(extra)}")
    handler: Callable[[argparse.Namespace], int] = args.handler
    return int(handler(args))
