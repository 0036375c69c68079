"""Generic request validation, driven by the method's spec in the catalog.

Query parameters: required ones, allowed values, integers, the ``limit`` range
(from ``Param.maximum``), ``page``, ``output``, ``req_fields`` and ``order``.
Payloads: required elements, allowed values, integers and dates, item by item,
with positions ("Node ID 2 of 3 Empty"). Messages come from the method's
documented errors when one fits (matched case-insensitively, so the spec's own
spelling wins: "VoxNumbers Empty", "call_flows Empty"), else from the API's usual
pattern ``<Label> [x of y] <problem>``. A field may be named in the docs by another
label (``ALIASES``: ``full_voxnumbers`` is "VoxNumbers") and a problem in other
words (``PHRASES``: "Sub Account Name must be set" is the "Empty" of that field).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._spec import ElementSpec, Method, Param

_WORDS = {"id": "ID", "ids": "IDs", "url": "URL", "sms": "SMS", "xml": "XML", "cli": "Cli"}
_LABELS = {"sdt": "Start Date", "edt": "End Date", "page": "Page Number"}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_POSITION = re.compile(r"\b[xX] of [yY]\b")
ALIASES = {
    "full_voxnumbers": ("VoxNumbers",),
    "categories": ("Category IDs",),
    "categories_ids": ("Category IDs",),
    "rm_if_user": ("Remove If User",),
    "id": ("Call ID",),
}
"""Parameter names whose documented errors use another label than the name's own."""
PHRASES = {
    "Empty": ("Empty", "is empty", "must be set", "must be set to TRUE or FALSE"),
    "Invalid": ("Invalid", "must be set to TRUE or FALSE", "should be one of the following:"),
    "not an integer": ("not an integer", "must be an integer"),
}
"""The ways the docs word each problem; a phrase ending in ":" or "FALSE" starts a message."""
_INTEGER = re.compile(r"^-?\d+$")


def label(name: str) -> str:
    """``node_id`` -> ``Node ID``, the API's way of naming a field in messages."""
    name = name.lstrip("@")
    if name in _LABELS:
        return _LABELS[name]
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).split("_")
    return " ".join(_WORDS.get(word.lower(), word[:1].upper() + word[1:]) for word in words if word)


def message(
    method: Method,
    name: str,
    problem: str,
    position: tuple[int, int] | None = None,
    *,
    list_item: bool = False,
) -> str:
    """The error text for ``problem`` ("Empty", "Invalid", "not an integer") on a field.

    ``list_item``: the problem is with one item of a list parameter (``clis=1,x``).
    """
    names = [name, label(name), *ALIASES.get(name, ())]
    candidates = list(names)
    if list_item:
        # An item of a list parameter is named in the singular: "Cli 2 of 3 not an integer".
        candidates += [candidate[:-1] for candidate in names if candidate.endswith("s")]
    found = documented_message(method, candidates, problem, position is not None)
    if found is None and position is not None:
        # Some lists are checked item by item but documented without a position.
        found = documented_message(method, candidates, problem, False)
    if found is not None:
        return _fill(found, position)
    if position:
        named = label(name)
        if list_item and named.endswith("s"):
            named = named[:-1]
        return f"{named} {position[0]} of {position[1]} {problem}"
    return f"{label(name)} {problem}"


def documented_message(
    method: Method, candidates: Sequence[str], problem: str, positioned: bool
) -> str | None:
    """The method's documented message for ``problem`` on a field named by a candidate."""
    phrases = (*PHRASES.get(problem, (problem,)), f"is {problem}")
    documented = [error.message for error in method.errors]
    for candidate in candidates:
        start = f"{candidate} x of y " if positioned else f"{candidate} "
        for phrase in phrases:
            open_ended = phrase.endswith((":", "FALSE"))
            for text in documented:
                lowered, wanted = text.lower(), (start + phrase).lower()
                if lowered == wanted or (open_ended and lowered.startswith(wanted)):
                    return text
    return None


def _fill(template: str, position: tuple[int, int] | None) -> str:
    if position is None:
        return template
    return _POSITION.sub(f"{position[0]} of {position[1]}", template, count=1)


def is_integer(text: str) -> bool:
    """Whether ``text`` is a whole number."""
    return bool(_INTEGER.match(text.strip()))


def valid_datetime(text: str, kind: str) -> bool:
    """Whether ``text`` is a ``datetime`` (time part optional) or a ``date``."""
    pattern = _DATE if kind == "date" else _DATETIME
    return bool(pattern.match(text.strip()))


def value_problem(text: str, kind: str, values: Sequence[str]) -> str | None:
    """``"not an integer"``, ``"Invalid"`` or ``None`` for one value of a type."""
    if kind == "integer" and not is_integer(text):
        return "not an integer"
    if values:
        return None if text.upper() in {allowed.upper() for allowed in values} else "Invalid"
    if kind == "boolean":
        return None if text.upper() in ("TRUE", "FALSE") else "Invalid"
    if kind in ("datetime", "date"):
        return None if valid_datetime(text, kind) else "Invalid"
    return None


# -- query ----------------------------------------------------------------------------


def query_value(query: Mapping[str, Sequence[str]], param: Param) -> str | None:
    """The raw value of a parameter (``name[]`` values joined for array parameters)."""
    values = list(query.get(param.name, ()))
    if param.separator == "[]":
        values += list(query.get(f"{param.name}[]", ()))
        return ",".join(values) if values else None
    return values[0] if values else None


def split_list(param: Param, value: str) -> list[str]:
    """The items of a list parameter."""
    separator = "," if param.separator in (None, "[]") else param.separator
    return [item.strip() for item in value.split(separator)]


def req_field_values(method: Method) -> tuple[str, ...]:
    """The abbreviations ``req_fields`` accepts for this method (may be empty)."""
    param = method.param("req_fields")
    return param.values if param is not None else ()


def _check_param(method: Method, param: Param, value: str, errors: list[str]) -> None:
    name = param.name
    if name == "page":
        if not is_integer(value) or int(value) < (param.minimum or 1):
            errors.append("Page Number not an integer")
        return
    if name == "limit":
        if not is_integer(value):
            errors.append("Limit not an integer")
            return
        low = param.minimum if param.minimum is not None else 1
        high = param.maximum
        if int(value) < low or (high is not None and int(value) > high):
            errors.append(f"Limit must be between {low} and {high if high is not None else 'max'}")
        return
    if name == "output":
        if value.upper() not in (param.values or ("XML", "JSON")):
            errors.append("Output Type Invalid")
        return
    if name == "req_fields":
        if param.values:
            bad = [item for item in split_list(param, value) if item not in param.values]
            if bad:
                errors.append("Required Fields Invalid: " + ",".join(bad))
        return
    if name == "order":
        _check_order(method, value, errors)
        return
    if param.is_list:
        items = split_list(param, value)
        for position, item in enumerate(items, start=1):
            # A blank item is the handler's to report, beside the problems only it can see.
            problem = value_problem(item, param.type, param.values) if item else None
            if problem is not None:
                where = (position, len(items))
                errors.append(message(method, name, problem, where, list_item=True))
        return
    problem = value_problem(value, param.type, param.values)
    if problem is not None:
        errors.append(message(method, name, problem))


def _check_order(method: Method, value: str, errors: list[str]) -> None:
    fields = req_field_values(method)
    if not fields:
        return
    field, _, direction = value.rpartition("_")
    if not field:
        errors.append("Order Field Invalid")
        return
    if field not in fields:
        errors.append("Order Field Invalid")
    if direction.upper() not in ("ASC", "DESC"):
        errors.append("Order Direction Invalid")


def validate_query(method: Method, query: Mapping[str, Sequence[str]]) -> list[str]:
    """Every problem with the query string, in the spec's parameter order."""
    errors: list[str] = []
    for param in method.query:
        value = query_value(query, param)
        if value is None or not value.strip():
            if param.required:
                errors.append(message(method, param.name, "Empty"))
            continue
        _check_param(method, param, value.strip(), errors)
    return errors


# -- payload --------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(_blank(item) for item in value)
    return False


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("#text"), str):
        return str(value["#text"]).strip()
    return None


def _check_value(
    method: Method,
    spec: ElementSpec,
    value: Any,
    position: tuple[int, int] | None,
    errors: list[str],
) -> None:
    if spec.type == "xml":
        return
    text = _text(value)
    problem = value_problem(text, spec.type, spec.values) if text else None
    if problem is not None:
        errors.append(message(method, spec.name, problem, position))
    if spec.children and isinstance(value, dict):
        check_elements(method, spec.children, value, position, errors)
    elif spec.children and not text:
        check_elements(method, spec.children, {}, position, errors)


def check_elements(
    method: Method,
    specs: tuple[ElementSpec, ...],
    data: Mapping[str, Any],
    position: tuple[int, int] | None,
    errors: list[str],
) -> None:
    """Check one level of a payload tree against its specs (recursively)."""
    for spec in specs:
        key = spec.name
        value = data.get(key)
        if _blank(value):
            if spec.required:
                errors.append(message(method, key, "Empty", position))
            continue
        if spec.repeated:
            items = value if isinstance(value, list) else [value]
            for number, item in enumerate(items, start=1):
                _check_value(method, spec, item, (number, len(items)), errors)
        elif isinstance(value, list):
            for item in value:
                _check_value(method, spec, item, position, errors)
        else:
            _check_value(method, spec, value, position, errors)


def validate_payload(method: Method, data: Mapping[str, Any]) -> list[str]:
    """Every problem with the ``<request>`` content; ``Request Empty`` when it has nothing."""
    specs = method.payload or ()
    request_empty = any(error.message == "Request Empty" for error in method.errors)
    if not any(not _blank(value) for key, value in data.items() if not key.startswith("@")):
        # A payload whose elements are all optional may be empty (cancelSubscription).
        if not any(spec.required for spec in specs):
            return []
        if request_empty:
            return ["Request Empty"]
    top_lists = [spec for spec in specs if spec.required and spec.repeated and spec.children]
    if request_empty and top_lists and all(_blank(data.get(spec.name)) for spec in top_lists):
        return ["Request Empty"]
    errors: list[str] = []
    check_elements(method, specs, data, None, errors)
    return errors
