"""Spec-typed responses: the decoded tree's strings become ``int``, ``bool``, ``datetime``.

A :class:`Shape` is built once per method from its spec response tree. It finishes
what the XML or JSON decoder produced, so both formats give the same result:

- ``integer`` → ``int``, ``boolean`` → ``bool`` (``1``/``0``, ``TRUE``/``FALSE``,
  ``true``/``false``), ``datetime`` → ``datetime``, ``date`` → ``date``; ``string``
  (identifiers, phone numbers, anything untyped) stays ``str``;
- an empty leaf (``<x/>``, JSON ``""``) is ``None``; MySQL's zero date
  (``0000-00-00``) is ``None`` too;
- an element with children is always a dict, ``{}`` when empty, and its repeated
  children are always lists (``[]`` when absent);
- a value that will not convert raises :class:`ResponseValueError`, naming the
  method, the element and the value: a wrongly typed value never passes silently.

:data:`CONVERTERS` maps each spec type to its converter; a type can be given its
own (``xml`` values are left as decoded).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from ._errors import ResponseDecodeError
from ._spec import ElementSpec, Method


class ResponseValueError(ResponseDecodeError):
    """A response value did not match its documented type.

    ``method`` is ``Interface.method``, ``element`` the path below ``<response>``
    (``results/result/call_start``), ``value`` the value as received.
    """

    def __init__(self, method: str, element: str, value: object, expected: str) -> None:
        self.method = method
        self.element = element
        self.value = value
        super().__init__(
            f"{method}: <{element}> should be {expected}, got {value!r}"
            " (iovox.request() returns the unconverted text)"
        )


class _Unconvertible(Exception):
    """Raised by a converter; carries what was expected."""

    def __init__(self, expected: str) -> None:
        self.expected = expected


Converter = Callable[[Any], Any]
"""Takes a non-empty decoded value (``str`` from XML; any JSON scalar) and returns
the Python value, or raises ``_Unconvertible``."""


def _integer(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is str and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise _Unconvertible("an integer")


_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}


def _boolean(value: Any) -> bool:
    kind = type(value)
    if kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is str:
        found = _BOOLEANS.get(value.lower())
        if found is not None:
            return found
    elif kind is int and value in (0, 1):
        return bool(value)
    raise _Unconvertible("a boolean (1/0, TRUE/FALSE)")


_ZERO_DATE = "0000-00-00"


def _datetime(value: Any) -> _dt.datetime | None:
    if type(value) is str and len(value) >= 10 and value[4] == "-":
        if value.startswith(_ZERO_DATE):
            return None
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _Unconvertible("a datetime (YYYY-MM-DD HH:MM:SS)")


def _date(value: Any) -> _dt.date | None:
    if type(value) is str and len(value) == 10:
        if value == _ZERO_DATE:
            return None
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _Unconvertible("a date (YYYY-MM-DD)")


def _text(value: Any) -> Any:
    kind = type(value)
    if kind is int or kind is float:  # JSON numbers: XML gives the same digits as text
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    return value  # str, or an unexpected tree: left as decoded


def _as_decoded(value: Any) -> Any:
    return value


CONVERTERS: dict[str, Converter] = {
    "string": _text,
    "integer": _integer,
    "boolean": _boolean,
    "datetime": _datetime,
    "date": _date,
    "xml": _as_decoded,
}


# -- the shape of one response --------------------------------------------------------


def _empty_to_none(value: Any) -> Any:
    """JSON leftovers outside the spec: ``""`` and ``{}`` are empty elements."""
    if value == "" or value == {}:
        return None
    return value


def normalise_json(value: Any, names: frozenset[str]) -> Any:
    """Give JSON outside the spec tree the shape its XML form decodes to, at any depth.

    Every key in ``names`` holds a list, ``""`` and ``{}`` become ``None``, numbers
    become text.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            item = value[key] = _text(_empty_to_none(item))
            if key in names and not isinstance(item, list):
                item = value[key] = [] if item is None else [item]
            if isinstance(item, (dict, list)):
                normalise_json(item, names)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            item = value[index] = _text(_empty_to_none(item))
            if isinstance(item, (dict, list)):
                normalise_json(item, names)
    return value


class _Node:
    """The rules for the children of one element with children."""

    __slots__ = ("leaves", "lists", "nodes", "path", "repeated")

    def __init__(self, path: str, children: tuple[ElementSpec, ...]) -> None:
        self.path = path
        self.leaves: dict[str, Converter] = {}
        self.nodes: dict[str, _Node] = {}
        self.repeated = frozenset(child.name for child in children if child.repeated)
        self.lists = tuple(sorted(self.repeated))
        for child in children:
            where = f"{path}/{child.name}" if path else child.name
            if child.children and child.type != "xml":
                self.nodes[child.name] = _Node(where, child.children)
            else:
                self.leaves[child.name] = CONVERTERS[child.type]


class Shape:
    """How to finish the decoded body of one method (see the module docs)."""

    __slots__ = ("_root", "_wrappers", "force_list", "label")

    def __init__(
        self, label: str, elements: tuple[ElementSpec, ...], force_list: frozenset[str]
    ) -> None:
        self.label = label
        self.force_list = force_list
        self._root = _Node("", elements) if elements else None
        # A list wrapper (``<results>`` holding only ``<result>``) missing at the top
        # level is added, so a page without rows still iterates.
        self._wrappers = tuple(
            element.name
            for element in elements
            if len(element.children) == 1 and element.children[0].repeated
        )

    def finish(self, data: dict[str, Any], from_json: bool) -> dict[str, Any]:
        """Convert ``data`` (the content of ``<response>``) in place and return it."""
        root = self._root
        if root is None:
            return normalise_json(data, self.force_list) if from_json else data
        for name in self._wrappers:
            if data.get(name) is None:
                data[name] = {}
        return self._mapping(root, data, from_json)

    def _fail(self, node: _Node, key: str, value: object, error: _Unconvertible) -> None:
        where = f"{node.path}/{key}" if node.path else key
        raise ResponseValueError(self.label, where, value, error.expected) from None

    def _mapping(self, node: _Node, data: dict[str, Any], from_json: bool) -> dict[str, Any]:
        leaves = node.leaves
        repeated = node.repeated
        for key, value in data.items():
            convert = leaves.get(key)
            if convert is not None:
                if key in repeated:
                    data[key] = self._leaf_list(node, key, convert, value, from_json)
                elif value is None:
                    continue
                elif convert is _text:
                    if value.__class__ is not str:
                        data[key] = _text(value)
                    elif value == "":
                        data[key] = None
                elif value == "" and from_json:
                    data[key] = None
                else:
                    try:
                        data[key] = convert(value)
                    except _Unconvertible as error:
                        self._fail(node, key, value, error)
                continue
            child = node.nodes.get(key)
            if child is not None:
                if key in repeated:
                    items = value if isinstance(value, list) else [] if value is None else [value]
                    data[key] = [self._container(child, item, from_json) for item in items]
                else:
                    data[key] = self._container(child, value, from_json)
            elif from_json:  # not in the spec: shaped as its XML form would be
                value = data[key] = _text(_empty_to_none(value))
                if key in self.force_list and not isinstance(value, list):
                    data[key] = [] if value is None else [value]
                elif isinstance(value, (dict, list)):
                    normalise_json(value, self.force_list)
        for name in node.lists:
            if data.get(name) is None:
                data[name] = []
        return data

    def _container(self, node: _Node, value: Any, from_json: bool) -> Any:
        if value is None or value == "":
            return self._mapping(node, {}, from_json)
        if isinstance(value, dict):
            return self._mapping(node, value, from_json)
        return _text(value)  # text where children were documented: left as it came

    def _leaf_list(
        self, node: _Node, key: str, convert: Converter, value: Any, from_json: bool
    ) -> list[Any]:
        items = value if isinstance(value, list) else [] if value is None else [value]
        result: list[Any] = []
        for item in items:
            if item is None or item == "":
                result.append(None)
                continue
            try:
                result.append(convert(item))
            except _Unconvertible as error:
                self._fail(node, key, item, error)
        return result


PLAIN = Shape("", (), frozenset())
"""Nothing to convert: the raw ``request()`` of an unknown method."""

_SHAPES: dict[int, tuple[Method, Shape]] = {}


def shape_for(method: Method, *, typed: bool = True) -> Shape:
    """The shape of ``method``'s responses, built once (``typed=False``: lists only)."""
    if not typed:
        return Shape("", (), method.repeated)
    cached = _SHAPES.get(id(method))
    if cached is not None and cached[0] is method:
        return cached[1]
    shape = Shape(f"{method.interface}.{method.name}", method.response, method.repeated)
    _SHAPES[id(method)] = (method, shape)  # the method is kept, so its id stays its own
    return shape
