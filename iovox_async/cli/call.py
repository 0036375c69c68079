"""``iovox call INTERFACE METHOD NAME=VALUE ...``: any API method, answer as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .._catalog import METHODS
from .._errors import ValidationError
from ..interfaces import INTERFACE_ATTRIBUTES
from ._common import Subparsers, connection_options, make_client, run_command


def resolve_method(interface: str, method: str) -> tuple[str, str]:
    """API names for ``calls``/``Calls`` and ``get_call_data``/``getCallData``."""
    by_attribute = {attr: name for name, attr in INTERFACE_ATTRIBUTES.items()}
    by_lower = {name.lower(): name for name in METHODS}
    name = by_attribute.get(interface) or by_lower.get(interface.lower())
    if name is None:
        raise ValidationError(f"unknown interface {interface!r}; see `iovox call --list`")
    methods = METHODS[name]
    wanted = method.replace("_", "").lower()
    for candidate in methods:
        if candidate.lower() == wanted:
            return name, candidate
    raise ValidationError(f"{name} has no method {method!r}; see `iovox call --list`")


def _call_arguments(
    interface: str, method: str, pairs: list[str], payload_text: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    spec = METHODS[interface][method]
    payload_names = {element.name for element in spec.payload or ()}
    params: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.rstrip(":"):
            raise ValidationError(f"expected NAME=VALUE or NAME:=JSON, got {pair!r}")
        value: Any = text
        if name.endswith(":"):
            name, value = name[:-1], _json(text, f"{name}=")
        (payload if name in payload_names else params)[name] = value
    if payload_text:
        if payload_text.startswith("@"):
            payload_text = Path(payload_text[1:]).read_text(encoding="utf-8")
        loaded = _json(payload_text, "--payload")
        if not isinstance(loaded, dict):
            raise ValidationError("--payload must be a JSON object")
        payload.update(loaded)
    missing = [p.name for p in spec.query if p.required and p.name not in params]
    missing += [e.name for e in spec.payload or () if e.required and e.name not in payload]
    if missing:
        raise ValidationError(f"{interface}.{method} needs {', '.join(missing)}")
    return params, (payload or None) if spec.http in ("POST", "PUT") else None


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValidationError(f"{what} is not valid JSON: {error}") from None


async def _call(args: argparse.Namespace) -> int:
    if args.list:
        for name, methods in sorted(METHODS.items()):
            for method, spec in methods.items():
                print(f"{name} {method}  ({spec.http}) {spec.summary}")
        return 0
    if not args.interface or not args.method:
        raise ValidationError("give INTERFACE and METHOD (or --list)")
    interface, method = resolve_method(args.interface, args.method)
    spec = METHODS[interface][method]
    params, payload = _call_arguments(interface, method, args.params, args.payload)
    async with make_client(args) as client:
        if spec.response_kind == "binary":
            if not args.output:
                raise ValidationError(f"{method} returns audio: give --output FILE")
            size = await client.download(interface, method, args.output, params=params)
            print(json.dumps({"path": args.output, "bytes": size}))
            return 0
        result = await client.request(
            interface,
            method,
            params=params,
            payload=payload,
            http_method=spec.http,
            idempotent=spec.idempotent,
        )
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def add_call_command(subparsers: Subparsers) -> None:
    """Register ``iovox call``."""
    call = subparsers.add_parser(
        "call",
        parents=[connection_options()],
        help="call any API method and print its answer as JSON",
        description="Call any method: iovox call Calls getCallData limit=5 sdt=2026-10-01."
        " NAME=VALUE goes to the query string (or the body, for body elements);"
        " NAME:=JSON passes a JSON value.",
    )
    call.add_argument("interface", nargs="?", help="e.g. Calls or calls")
    call.add_argument("method", nargs="?", help="e.g. getCallData or get_call_data")
    call.add_argument("params", nargs="*", metavar="NAME=VALUE", help="arguments")
    call.add_argument("--payload", help="the request body as a JSON object, or @file.json")
    call.add_argument("--output", help="file for binary answers (recordings)")
    call.add_argument("--list", action="store_true", help="list every method")
    call.set_defaults(handler=run_command, iovox_runner=_call)
