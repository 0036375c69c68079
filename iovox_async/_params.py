"""Python values to API strings, with the spec's checks applied before sending.

``build_query`` turns a generated coroutine's keyword arguments into query pairs:
``datetime`` → ``YYYY-MM-DD HH:MM:SS``, ``date`` → ``YYYY-MM-DD``, ``bool`` →
``TRUE``/``FALSE``, sequences joined by the parameter's separator (or repeated as
``name[]``). Anything the spec rules out raises :class:`ValidationError`.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._errors import ValidationError
from ._spec import ElementSpec, Method, Param
from ._xml import RawXML, to_api_text

QueryPairs = list[tuple[str, str]]


class UndocumentedValueWarning(UserWarning):
    """A value outside a parameter's documented list was sent as given.

    Raised as a warning only for parameters whose documented list may be
    incomplete (``req_fields``); a typo shows up here before the server answers.
    """


def _where(method: Method) -> str:
    return f"{method.interface}.{method.name}"


def _check_scalar(method: Method, param: Param, value: object) -> str:
    where = f"{_where(method)}: {param.name}"
    expected = param.type
    if expected == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError(f"{where} must be an integer, got {type(value).__name__}")
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            raise ValidationError(f"{where} must be an integer, got {value!r}")
        number = int(value)
        if param.minimum is not None and number < param.minimum:
            raise ValidationError(f"{where} must be at least {param.minimum}, got {number}")
        if param.maximum is not None and number > param.maximum:
            raise ValidationError(f"{where} must be at most {param.maximum}, got {number}")
        text = str(number)
    elif expected == "boolean":
        if isinstance(value, bool):
            text = to_api_text(value)
        elif isinstance(value, str) and value.upper() in ("TRUE", "FALSE"):
            text = value.upper()
        else:
            raise ValidationError(f"{where} must be True or False, got {value!r}")
    elif expected == "datetime":
        if not isinstance(value, (_dt.date, str)):
            raise ValidationError(f"{where} must be a datetime, got {type(value).__name__}")
        text = to_api_text(value)
        _moment(where, text, _DATETIME_FORMATS)
    elif expected == "date":
        if isinstance(value, _dt.datetime):
            to_api_text(value)  # an aware datetime is refused, not cut to its date
            value = value.date()
        if not isinstance(value, (_dt.date, str)):
            raise ValidationError(f"{where} must be a date, got {type(value).__name__}")
        text = to_api_text(value)
        _moment(where, text, _DATETIME_FORMATS[-1:])
    else:
        if isinstance(value, (Mapping, bytes)):
            raise ValidationError(f"{where} must be text, got {type(value).__name__}")
        text = to_api_text(value)
    if param.values and text not in param.values:
        allowed = ", ".join(param.values)
        if param.advisory_values:
            warnings.warn(
                f"{where}: {text!r} is not among the documented values ({allowed});"
                " sending it anyway, the server decides",
                UndocumentedValueWarning,
                stacklevel=2,
            )
        else:
            raise ValidationError(f"{where} must be one of {allowed}; got {text!r}")
    return text


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _moment(where: str, text: str, formats: Sequence[str]) -> _dt.datetime:
    """``text`` as a real date/time in one of ``formats``, else a ValidationError."""
    for form in formats:
        try:
            return _dt.datetime.strptime(text, form)
        except ValueError:
            continue
    shapes = "YYYY-MM-DD" if len(formats) == 1 else "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"
    raise ValidationError(f"{where} must be a real date as {shapes}, got {text!r}")


def _param_pairs(method: Method, param: Param, value: object) -> QueryPairs:
    if not param.is_list:
        return [(param.name, _check_scalar(method, param, value))]
    items: Sequence[object]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        items = [value]
    else:
        items = list(value)
    if not items:
        raise ValidationError(f"{_where(method)}: {param.name} must not be empty")
    texts = [_check_scalar(method, param, item) for item in items]
    if param.separator == "[]":
        return [(f"{param.name}[]", text) for text in texts]
    separator = param.separator or ","
    for text in texts:
        if separator in text and len(texts) > 1:
            raise ValidationError(
                f"{_where(method)}: {param.name} item {text!r} contains the separator {separator!r}"
            )
    return [(param.name, separator.join(texts))]


def build_query(method: Method, arguments: Mapping[str, object]) -> QueryPairs:
    """Check arguments against the method's query spec and serialise them.

    Pairs follow the spec's order, and the first problem in that order is the one
    reported. Only the arguments given are visited (a generated coroutine passes every
    parameter, most of them ``None``).
    """
    index = method.query_index
    if not index.keys() >= arguments.keys():
        unknown = sorted(set(arguments) - set(index))
        raise ValidationError(f"{_where(method)}: unknown parameters {unknown}")
    given: list[tuple[int, Param, object]] = [
        (*index[name], value) for name, value in arguments.items() if value is not None
    ]
    for place, param in method.required_query:
        if arguments.get(param.name) is None:
            given.append((place, param, None))
    if len(given) > 1:
        given.sort(key=_place)
    pairs: QueryPairs = []
    for _, param, value in given:
        if value is None:
            raise ValidationError(f"{_where(method)}: {param.name} is required")
        pairs.extend(_param_pairs(method, param, value))
    if len(pairs) > 1:
        _check_range(method, dict(pairs))
    return pairs


def _place(entry: tuple[int, Param, object]) -> int:
    return entry[0]


_RANGES = (("sdt", "edt"), ("start_date", "end_date"))
"""The start/end parameter pairs: v3's abbreviations and REST v1's full names."""


def _check_range(method: Method, sent: Mapping[str, str]) -> None:
    """A range that ends before it starts matches nothing: say so instead of sending it."""
    for first, last in _RANGES:
        start, end = sent.get(first), sent.get(last)
        if start is None or end is None:
            continue
        where = _where(method)
        if _moment(where, start, _DATETIME_FORMATS) > _moment(where, end, _DATETIME_FORMATS):
            raise ValidationError(f"{where}: {first} {start!r} is after {last} {end!r}")


def check_payload(method: Method, payload: Mapping[str, Any] | None) -> None:
    """Check that every element the spec requires is present (at every depth)."""
    if method.payload is None:
        if payload:
            raise ValidationError(f"{_where(method)} takes no payload")
        return
    if method.payload_one_of:
        given = [
            name for name in method.payload_one_of if (payload or {}).get(name) not in (None, [])
        ]
        if len(given) != 1:
            choices = ", ".join(method.payload_one_of)
            extra = f" (got {', '.join(given)})" if given else ""
            raise ValidationError(f"{_where(method)}: give exactly one of {choices}{extra}")
    if not payload:
        if any(element.required for element in method.payload):
            raise ValidationError(f"{_where(method)}: a payload is required")
        return
    _check_elements(_where(method), payload, method.payload, "request")


def _check_elements(
    where: str, data: Mapping[str, Any], specs: tuple[ElementSpec, ...], path: str
) -> None:
    for spec in specs:
        value = data.get(spec.name)
        if value is None or value == []:
            if spec.required:
                raise ValidationError(f"{where}: {path}/{spec.name} is required")
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        if len(items) > 1 and not spec.repeated:
            raise ValidationError(f"{where}: {path}/{spec.name} may occur only once")
        for item in items:
            if spec.values and to_api_text(item) not in spec.values:
                allowed = ", ".join(spec.values)
                raise ValidationError(
                    f"{where}: {path}/{spec.name} must be one of {allowed}; got {item!r}"
                )
            if spec.children and isinstance(item, Mapping) and not isinstance(item, RawXML):
                _check_elements(where, item, spec.children, f"{path}/{spec.name}")


def mark_raw_xml(method: Method, payload: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Text given for a top-level element typed ``xml`` (a call flow) is that XML itself.

    ``update_call_flow(call_flow=read["callFlow_xml"])`` and a plain ``str`` holding the
    ``<callFlow>`` element are both spliced in as XML instead of escaped as text.
    """
    if not payload or method.payload is None:
        return payload
    xml_names = {element.name for element in method.payload if element.type == "xml"}
    if not any(isinstance(payload.get(name), str) for name in xml_names):
        return payload
    return {
        name: RawXML(value) if name in xml_names and isinstance(value, str) else value
        for name, value in payload.items()
    }
