"""``iovox call INTERFACE METHOD NAME=VALUE ...``: any API method, answer as JSON.

Arguments go through the same checks as the generated methods (names, types, dates,
ranges, allowed values) before anything is sent; ``--raw`` sends them unchecked, for
parameters the spec does not document.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._catalog import METHODS
from .._errors import ValidationError
from .._params import build_query, check_payload
from .._spec import Endpoint, Method, Param
from ..interfaces import INTERFACE_ATTRIBUTES
from ._common import EXIT_USAGE, Subparsers, connection_options, fail, make_client, run_command


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


@dataclass(frozen=True)
class CallArguments:
    """What the command line asked to send: query arguments and the body."""

    params: dict[str, Any]
    payload: dict[str, Any] | None


def parse_arguments(
    spec: Method, pairs: list[str], payload_text: str | None, *, raw: bool = False
) -> CallArguments:
    """``NAME=VALUE`` / ``NAME:=JSON`` pairs and ``--payload`` as the method's arguments.

    Unless ``raw``, every argument is converted to its parameter's type and checked as
    the generated method checks it; a ValidationError names the first problem.
    """
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
    where = f"{spec.interface}.{spec.name}"
    missing = [p.name for p in spec.query if p.required and p.name not in params]
    missing += [e.name for e in spec.payload or () if e.required and e.name not in payload]
    if missing:
        raise ValidationError(f"{where} needs {', '.join(missing)}")
    body = (payload or None) if spec.http in ("POST", "PUT") else None
    if raw:
        return CallArguments(params, body)
    _refuse_unknown(spec, params)
    typed = {name: _typed(_param(spec, name), value) for name, value in params.items()}
    build_query(spec, typed)
    check_payload(spec, body)
    return CallArguments(typed, body)


def _param(spec: Method, name: str) -> Param:
    param = spec.param(name)
    assert param is not None  # _refuse_unknown ran first
    return param


def _refuse_unknown(spec: Method, params: dict[str, Any]) -> None:
    unknown = sorted(name for name in params if spec.param(name) is None)
    if not unknown:
        return
    known = [p.name for p in spec.query] + [e.name for e in spec.payload or ()]
    listed = f"known: {', '.join(known)}" if known else "it takes no parameters"
    plural = "s" if len(unknown) > 1 else ""
    raise ValidationError(
        f"{spec.interface}.{spec.name}: unknown parameter{plural} {', '.join(unknown)}"
        f" ({listed}; --raw sends undocumented ones unchecked)"
    )


def _typed(param: Param, value: Any) -> Any:
    """Command-line text as the parameter's Python type (JSON values are kept).

    Text that does not fit the type is passed on unchanged, so the library's check
    names the problem in its own words.
    """
    if not isinstance(value, str):
        return value
    if param.is_list:
        separator = "," if param.separator == "[]" else param.separator or ","
        return [_scalar(param, part.strip()) for part in value.split(separator)]
    return _scalar(param, value)


def _scalar(param: Param, text: str) -> Any:
    if param.type == "integer" and text.strip().lstrip("-").isdigit():
        return int(text)
    if param.type == "boolean" and text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    return text


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValidationError(f"{what} is not valid JSON: {error}") from None


def _list_methods() -> int:
    for name, methods in sorted(METHODS.items()):
        for method, spec in methods.items():
            print(f"{name} {method}  ({spec.http}) {spec.summary}")
    return 0


async def _call(args: argparse.Namespace) -> int:
    if args.list:
        return _list_methods()
    try:
        if not args.interface or not args.method:
            raise ValidationError("give INTERFACE and METHOD (or --list)")
        interface, method = resolve_method(args.interface, args.method)
        spec = METHODS[interface][method]
        arguments = parse_arguments(spec, args.params, args.payload, raw=args.raw)
        if spec.response_kind == "binary" and not args.output:
            raise ValidationError(f"{spec.name} returns audio: give --output FILE")
    except ValidationError as error:  # wrong arguments: nothing was sent
        return fail(str(error), EXIT_USAGE)
    async with make_client(args) as client:
        if spec.response_kind == "binary":
            if args.raw:
                size = await client.download(
                    spec.interface, spec.name, args.output, params=arguments.params
                )
            else:
                size = await client._invoke_to_file(
                    Endpoint[bytes](spec), arguments.params, args.output
                )
            print(json.dumps({"path": args.output, "bytes": size}))
            return 0
        if args.raw:
            result = await client.request(
                spec.interface,
                spec.name,
                params=arguments.params,
                payload=arguments.payload,
                http_method=spec.http,
                idempotent=spec.idempotent,
            )
        else:
            result = await client._invoke(Endpoint[Any](spec), arguments.params, arguments.payload)
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
        " NAME:=JSON passes a JSON value; list items are joined as the API writes them"
        " (cat_ids=1,2). Arguments are checked as the library checks them (names, types,"
        " dates, ranges, allowed values) before anything is sent; a bad one exits 2.",
    )
    call.add_argument("interface", nargs="?", help="e.g. Calls or calls")
    call.add_argument("method", nargs="?", help="e.g. getCallData or get_call_data")
    call.add_argument("params", nargs="*", metavar="NAME=VALUE", help="arguments")
    call.add_argument("--payload", help="the request body as a JSON object, or @file.json")
    call.add_argument("--output", help="file for binary answers (recordings)")
    call.add_argument(
        "--raw",
        action="store_true",
        help="send NAME=VALUE unchecked, for parameters the spec does not document"
        " (only required names are checked; misspelt names go out as they are)",
    )
    call.add_argument("--list", action="store_true", help="list every method")
    call.set_defaults(handler=run_command, iovox_runner=_call)
