"""Load and check ``spec/*.yaml`` (the project's API spec).

The format is described in ``spec/README.md``. ``load_spec()`` validates every file
strictly (unknown keys, wrong types and inconsistent entries are errors) and returns
the methods as :class:`iovox_async._spec.Method` objects plus the documentation-only
facts (examples, sources, guesses) the generator and the tests need.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:
    from iovox_async._spec import ElementSpec, ErrorDoc, Method, Param, repeated_names
except Exception:  # the package cannot import yet (generated files missing or broken)
    import importlib.util

    _path = Path(__file__).resolve().parent.parent / "iovox_async" / "_spec.py"
    _module_spec = importlib.util.spec_from_file_location("_iovox_spec_bootstrap", _path)
    assert _module_spec is not None and _module_spec.loader is not None
    _module = importlib.util.module_from_spec(_module_spec)
    sys.modules["_iovox_spec_bootstrap"] = _module
    _module_spec.loader.exec_module(_module)
    ElementSpec, ErrorDoc, Method, Param, repeated_names = (
        _module.ElementSpec,
        _module.ErrorDoc,
        _module.Method,
        _module.Param,
        _module.repeated_names,
    )

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"

VERBS = {"GET", "POST", "PUT", "DELETE"}
VALUE_TYPES = {"string", "integer", "boolean", "datetime", "date", "xml"}
SEPARATORS = {",", "|", ";", "[]"}
KINDS = {"xml", "binary", "empty"}
NAME_RE = re.compile(r"^@?[A-Za-z_][A-Za-z0-9_.\-]*$")

_INTERFACE_KEYS = {"interface", "section", "methods"}
_METHOD_KEYS = {
    "http",
    "summary",
    "doc_url",
    "sources",
    "confidence",
    "guesses",
    "idempotent",
    "timeout",
    "query",
    "payload",
    "payload_examples",
    "payload_one_of",
    "response",
    "errors",
    "notes",
}
_REQUIRED_METHOD_KEYS = {
    "http",
    "summary",
    "sources",
    "confidence",
    "idempotent",
    "response",
    "errors",
}
_PARAM_KEYS = {
    "name",
    "type",
    "required",
    "values",
    "separator",
    "minimum",
    "maximum",
    "default",
    "doc",
}
_ELEMENT_KEYS = {"name", "type", "required", "repeated", "values", "children", "doc"}
_RESPONSE_KEYS = {"kind", "elements", "examples"}


class SpecError(ValueError):
    """A spec file breaks the format."""


@dataclass(frozen=True)
class SpecMethod:
    """A method with its documentation-only facts."""

    method: Method
    section: str
    sources: tuple[str, ...]
    guesses: tuple[str, ...]
    notes: str
    payload_examples: tuple[str, ...]
    response_examples: tuple[str, ...]
    doc_url: str | None = None
    confidence: str = "partial"
    query_docs: tuple[tuple[str, str], ...] = ()
    """(parameter name, doc) for every query parameter, in spec order."""
    payload_docs: tuple[tuple[str, str], ...] = ()
    """(element name, doc) for every top-level payload element, in spec order."""

    def query_doc(self, name: str) -> str:
        return dict(self.query_docs).get(name, "")

    def payload_doc(self, name: str) -> str:
        return dict(self.payload_docs).get(name, "")


def _check_keys(where: str, data: Any, allowed: set[str], required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = set(data) - allowed
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}")
    missing = set(required) - set(data)
    if missing:
        raise SpecError(f"{where}: missing keys {sorted(missing)}")


def _str_list(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{where}: expected a list of strings")
    return tuple(value)


def _type(where: str, value: Any) -> str:
    value = "string" if value is None else value
    if value not in VALUE_TYPES:
        raise SpecError(f"{where}: type {value!r} not one of {sorted(VALUE_TYPES)}")
    return str(value)


def _bool(where: str, value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SpecError(f"{where}: expected true/false, got {value!r}")
    return value


def _param(where: str, data: Any) -> Param:
    _check_keys(where, data, _PARAM_KEYS, {"name"})
    name = data["name"]
    if not isinstance(name, str) or not NAME_RE.match(name) or name.startswith("@"):
        raise SpecError(f"{where}: bad parameter name {name!r}")
    separator = data.get("separator")
    if separator is not None and separator not in SEPARATORS:
        raise SpecError(f"{where}.{name}: separator {separator!r} not one of {sorted(SEPARATORS)}")
    for bound in ("minimum", "maximum"):
        if data.get(bound) is not None and not isinstance(data[bound], int):
            raise SpecError(f"{where}.{name}: {bound} must be an integer")
    default = data.get("default")
    return Param(
        name=name,
        type=_type(f"{where}.{name}", data.get("type")),  # type: ignore[arg-type]
        required=_bool(f"{where}.{name}.required", data.get("required")),
        values=_str_list(f"{where}.{name}.values", data.get("values")),
        separator=separator,
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        default=None if default is None else str(default),
    )


def _elements(where: str, data: Any) -> tuple[ElementSpec, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise SpecError(f"{where}: expected a list of elements")
    result = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        _check_keys(f"{where}[{index}]", item, _ELEMENT_KEYS, {"name"})
        name = item["name"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise SpecError(f"{where}[{index}]: bad element name {name!r}")
        if name in seen:
            raise SpecError(f"{where}: element {name!r} listed twice")
        seen.add(name)
        result.append(
            ElementSpec(
                name=name,
                type=_type(f"{where}.{name}", item.get("type")),  # type: ignore[arg-type]
                required=_bool(f"{where}.{name}.required", item.get("required")),
                repeated=_bool(f"{where}.{name}.repeated", item.get("repeated")),
                values=_str_list(f"{where}.{name}.values", item.get("values")),
                children=_elements(f"{where}.{name}", item.get("children")),
            )
        )
    return tuple(result)


def _check_repeated_names(where: str, elements: tuple[ElementSpec, ...]) -> None:
    # Responses decode with a set of repeated element *names*, so a name may not be
    # repeated in one place and single in another.
    marks: dict[str, set[bool]] = {}
    stack = list(elements)
    while stack:
        element = stack.pop()
        marks.setdefault(element.name, set()).add(element.repeated)
        stack.extend(element.children)
    mixed = sorted(name for name, seen in marks.items() if len(seen) > 1)
    if mixed:
        raise SpecError(f"{where}: elements repeated in one place and single in another: {mixed}")


def _method(interface: str, section: str, name: str, data: Any) -> SpecMethod:
    where = f"{interface}.{name}"
    _check_keys(where, data, _METHOD_KEYS, _REQUIRED_METHOD_KEYS)
    http = data["http"]
    if http not in VERBS:
        raise SpecError(f"{where}: http {http!r} not one of {sorted(VERBS)}")
    if data["confidence"] not in ("full", "partial"):
        raise SpecError(f"{where}: confidence must be full or partial")
    idempotent = _bool(f"{where}.idempotent", data["idempotent"])
    timeout = data.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise SpecError(f"{where}: timeout must be a positive number of seconds")
    query = tuple(_param(f"{where}.query", item) for item in data.get("query") or [])
    names = [p.name for p in query]
    if len(names) != len(set(names)):
        raise SpecError(f"{where}: a query parameter is listed twice")
    payload_data = data.get("payload")
    payload = None if payload_data is None else _elements(f"{where}.payload", payload_data)
    if payload is not None and http in ("GET", "DELETE"):
        raise SpecError(f"{where}: {http} methods take no payload")
    one_of = _str_list(f"{where}.payload_one_of", data.get("payload_one_of"))
    optional = {element.name for element in payload or () if not element.required}
    if one_of and (len(one_of) < 2 or not set(one_of) <= optional):
        raise SpecError(f"{where}: payload_one_of must name two or more optional payload elements")
    response = data["response"]
    _check_keys(f"{where}.response", response, _RESPONSE_KEYS, {"kind"})
    kind = response["kind"]
    if kind not in KINDS:
        raise SpecError(f"{where}.response: kind {kind!r} not one of {sorted(KINDS)}")
    response_elements = _elements(f"{where}.response", response.get("elements"))
    if kind != "xml" and response_elements:
        raise SpecError(f"{where}.response: only xml responses have elements")
    _check_repeated_names(f"{where}.response", response_elements)
    errors = []
    for index, item in enumerate(data["errors"] or []):
        _check_keys(f"{where}.errors[{index}]", item, {"status", "message"}, {"status", "message"})
        if not isinstance(item["status"], int) or not 400 <= item["status"] < 600:
            raise SpecError(f"{where}.errors[{index}]: status must be an HTTP error code")
        errors.append(ErrorDoc(status=item["status"], message=str(item["message"])))
    if not data["summary"] or not isinstance(data["summary"], str):
        raise SpecError(f"{where}: summary must be a non-empty string")
    guesses = _str_list(f"{where}.guesses", data.get("guesses"))
    if data["confidence"] == "partial" and not guesses:
        raise SpecError(f"{where}: a partial method must say what was guessed (guesses)")
    method = Method(
        interface=interface,
        name=name,
        http=http,
        summary=data["summary"].strip(),
        idempotent=idempotent,
        response_kind=kind,
        query=query,
        payload=payload,
        response=response_elements,
        errors=tuple(errors),
        timeout=None if timeout is None else float(timeout),
        repeated=repeated_names(response_elements),
        payload_one_of=one_of,
    )
    return SpecMethod(
        method=method,
        section=section,
        sources=_str_list(f"{where}.sources", data["sources"]),
        guesses=guesses,
        notes=str(data.get("notes") or "").strip(),
        payload_examples=_str_list(f"{where}.payload_examples", data.get("payload_examples")),
        response_examples=_str_list(f"{where}.response.examples", response.get("examples")),
        doc_url=data.get("doc_url"),
        confidence=data["confidence"],
        query_docs=tuple(
            (str(item["name"]), str(item.get("doc") or "")) for item in data.get("query") or []
        ),
        payload_docs=tuple(
            (str(item["name"]), str(item.get("doc") or "")) for item in payload_data or []
        ),
    )


def load_file(path: Path) -> list[SpecMethod]:
    """Load and check one interface file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _check_keys(path.name, data, _INTERFACE_KEYS, _INTERFACE_KEYS)
    interface = data["interface"]
    if f"{interface}.yaml" != path.name:
        raise SpecError(f"{path.name}: interface {interface!r} does not match the file name")
    methods = data["methods"]
    if not isinstance(methods, dict) or not methods:
        raise SpecError(f"{path.name}: methods must be a non-empty mapping")
    return [_method(interface, str(data["section"]), name, body) for name, body in methods.items()]


def load_spec(spec_dir: Path = SPEC_DIR) -> list[SpecMethod]:
    """Load every interface file, sorted by interface then method name."""
    methods: list[SpecMethod] = []
    for path in sorted(spec_dir.glob("*.yaml")):
        methods.extend(load_file(path))
    if not methods:
        raise SpecError(f"no spec files in {spec_dir}")
    return methods
