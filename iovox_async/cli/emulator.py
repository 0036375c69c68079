"""``iovox emulator serve``: run the local IOVOX emulator."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from ._common import EXIT_USAGE, Subparsers, fail, latency, one_line, share, whole


def _date(text: str) -> Any:
    from ..emulator.config import parse_reference_date

    try:
        return parse_reference_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_emulator_commands(subparsers: Subparsers) -> None:
    """``iovox emulator serve``: run the local IOVOX emulator."""
    from ..emulator.config import DEFAULT_SECURE_KEY, DEFAULT_SEED, DEFAULT_USERNAME

    emulator = subparsers.add_parser("emulator", help="the local IOVOX API emulator")
    commands = emulator.add_subparsers(dest="emulator_command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the emulator over HTTP",
        description="Serve a local, stateful IOVOX API with seeded data and optional faults.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=whole(0, 65535),
        default=8444,
        help="port (default 8444; 0 picks a free one)",
    )
    serve.add_argument("--username", default=DEFAULT_USERNAME, help="accepted username")
    serve.add_argument("--secure-key", default=DEFAULT_SECURE_KEY, help="accepted secure key")
    serve.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the data and the faults"
    )
    serve.add_argument(
        "--calls", type=whole(0), default=10_000, help="seeded call records (default 10000)"
    )
    serve.add_argument(
        "--days", type=whole(1), default=90, help="days of call history (default 90)"
    )
    serve.add_argument("--nodes", type=whole(0), default=40, help="seeded nodes (default 40)")
    serve.add_argument(
        "--reference-date",
        type=_date,
        default=None,
        help="the emulator's today, YYYY-MM-DD[ HH:MM:SS] (default 2026-10-15)",
    )
    serve.add_argument(
        "--latency-ms",
        type=latency,
        default=None,
        metavar="A[-B]",
        help="added latency per request: fixed A or uniform A-B milliseconds",
    )
    serve.add_argument(
        "--error-rate",
        type=share,
        default=None,
        metavar="R",
        help="share of requests answered 500/502/503 (0-1)",
    )
    serve.add_argument(
        "--rate-limit-rate",
        type=share,
        default=None,
        metavar="R",
        help="share of requests answered 429 with Retry-After (0-1)",
    )
    serve.add_argument(
        "--retry-after",
        type=whole(0),
        default=None,
        metavar="S",
        help="Retry-After seconds of 429 answers (default 1)",
    )
    serve.add_argument(
        "--drop-rate",
        type=share,
        default=None,
        metavar="R",
        help="share of requests whose connection drops after the method ran (0-1)",
    )
    serve.add_argument(
        "--truncate-rate",
        type=share,
        default=None,
        metavar="R",
        help="share of responses cut short after the method ran (0-1)",
    )
    serve.add_argument(
        "--faults",
        default=None,
        metavar="JSON|FILE",
        help="per-method faults as JSON or a JSON file, e.g. "
        '\'{"methods": {"Calls.getCallData": {"error_rate": 0.2}}}\'',
    )
    serve.add_argument(
        "--keepalive-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="close idle kept-alive connections after S seconds (default 5)",
    )
    serve.set_defaults(handler=cmd_emulator_serve)


def _fault_settings(args: argparse.Namespace) -> Any:
    from ..emulator.faults import FaultSettings, FaultSpec

    settings = FaultSettings()
    if args.faults:
        text = args.faults.strip()
        if not text.startswith("{"):
            text = Path(text).read_text(encoding="utf-8")
        settings = FaultSettings.from_json(json.loads(text))
    flags = FaultSpec(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        rate_limit_rate=args.rate_limit_rate,
        drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate,
        retry_after=args.retry_after,
    )
    return FaultSettings(
        default=settings.default.merged(flags), methods=settings.methods, script=settings.script
    )


def _describe_faults(settings: Any) -> str:
    data = settings.to_json()
    parts = [f"{name}={value}" for name, value in data["default"].items()]
    if data["methods"]:
        parts.append(f"per method: {', '.join(data['methods'])}")
    if data["script"]:
        parts.append(f"scripted: {', '.join(data['script'])}")
    return "; ".join(parts) or "none"


def cmd_emulator_serve(args: argparse.Namespace) -> int:
    """Run the emulator until interrupted."""
    from ..emulator import EmulatorApp, EmulatorConfig
    from ..emulator.server import EmulatorServer, serve

    try:
        faults = _fault_settings(args)
    except (OSError, ValueError) as exc:
        return fail(f"emulator: bad --faults: {exc}", EXIT_USAGE)
    try:
        config = EmulatorConfig(
            username=args.username,
            secure_key=args.secure_key,
            seed=args.seed,
            calls=args.calls,
            days=args.days,
            nodes=args.nodes,
            keepalive_timeout=args.keepalive_timeout,
            faults=faults,
            **({"reference_date": args.reference_date} if args.reference_date else {}),
        )
        app = EmulatorApp(config)
    except Exception as exc:  # one line, never a traceback
        return fail(f"emulator: {one_line(exc)}")

    def ready(server: EmulatorServer) -> None:
        url = server.base_url
        print(f"IOVOX emulator listening on {url}")
        print(f"  username:   {config.username}")
        print(f"  secure key: {config.secure_key}")
        print(
            f"  data:       seed {config.seed}, {config.calls} calls over {config.days} days"
            f" before {config.reference_date:%Y-%m-%d %H:%M:%S}"
        )
        print(f"  faults:     {_describe_faults(faults)}")
        print(f"  admin:      {url}/_emulator/stats  (also /faults, /reset, /config, /state)")
        print(
            f"  try:        curl -H 'username: {config.username}'"
            f" -H 'secureKey: {config.secure_key}'"
            f" '{url}/Voxnumbers?v=3&method=getVoxnumbers&limit=5'"
        )
        print("Press Ctrl+C to stop.", flush=True)

    try:
        asyncio.run(
            serve(
                app, args.host, args.port, keepalive_timeout=args.keepalive_timeout, on_ready=ready
            )
        )
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        return fail(f"emulator: cannot listen on {args.host}:{args.port}: {exc}")
    except Exception as exc:
        return fail(f"emulator: {one_line(exc)}")
    return 0
