"""Spec-typed responses: the decoded tree's strings become ``int``, ``bool``, ``datetime``.

A :class:`Shape` is built once per method from its spec response tree. It finishes
what the XML or JSON decoder produced, so both formats give the same result:

- ``integer`` → ``int`` (decimal digits, or a whole number in any JSON form such as
  ``1e3``), ``boolean`` → ``bool`` (``1``/``0``, ``TRUE``/``FALSE``,
  ``true``/``false``), ``datetime`` → ``datetime`` (RFC 3339, else ISO 8601),
  ``date`` → ``date``; ``string`` (identifiers, phone numbers, anything untyped)
  stays ``str``;
- an empty leaf (``<x/>``, JSON ``""``) is ``None``; MySQL's zero date
  (``0000-00-00``) is ``None`` too, and so is the text ``null`` (any case) in a typed
  element or in one documented to have children;
- an element with children is always a dict, ``{}`` when empty, and its repeated
  children are always lists (``[]`` when absent);
- a value that will not convert raises :class:`ResponseValueError`, naming the
  method, the element and the value: a wrongly typed value never passes silently.

:data:`CONVERTERS` maps each spec type to its converter; a type can be given its
own (``xml`` values are left as decoded).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import Any

import msgspec

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
        shown = repr(value)
        if len(shown) > 80:  # a hostile value would make a message of any size
            shown = f"{shown[:60]}... ({len(shown)} characters)"
        super().__init__(
            f"{method}: <{element}> should be {expected}, got {shown}"
            " (iovox.request() returns the unconverted text)"
        )


class _Unconvertible(Exception):
    """Raised by a converter; carries what was expected."""

    def __init__(self, expected: str) -> None:
        self.expected = expected


Converter = Callable[[Any], Any]
"""Takes a non-empty decoded value (``str`` from XML; any JSON scalar) and returns
the Python value, or raises ``_Unconvertible``."""


# Each converter also takes its own output unchanged, so a tree may be finished twice.


def _is_null(value: Any) -> bool:
    """The text ``null``, in any case: JSON's null written as text, read as empty
    wherever the spec documents a typed value or children."""
    return value.__class__ is str and len(value) == 4 and value.lower() == "null"


_LAX_INTEGER: msgspec.json.Decoder[int | None] = msgspec.json.Decoder(int | None, strict=False)


def _integer(value: Any) -> int | None:
    """Decimal digits, or any number with a whole value as msgspec's lax mode reads one
    (``"1e3"``, ``"180.0"``), which is how the JSON fast path converts integers."""
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    if (
        kind is str
        and value.isascii()
        and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit()))
    ):
        try:
            return int(value)
        except ValueError:  # more digits than Python converts (sys.int_info)
            raise _Unconvertible("an integer of at most 4300 digits") from None
    if kind is str or (kind is float and math.isfinite(value)):
        try:
            return _LAX_INTEGER.decode(msgspec.json.encode(value))
        except msgspec.ValidationError:
            pass
    raise _Unconvertible("an integer")


_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}


def _boolean(value: Any) -> bool | None:
    kind = type(value)
    if kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is str:
        found = _BOOLEANS.get(value.lower())
        if found is not None:
            return found
        if _is_null(value):
            return None
    elif kind is int and value in (0, 1):
        return bool(value)
    raise _Unconvertible("a boolean (1/0, TRUE/FALSE)")


_ZERO_DATE = "0000-00-00"


_RFC3339: msgspec.json.Decoder[_dt.datetime] = msgspec.json.Decoder(_dt.datetime)


def _datetime(value: Any) -> _dt.datetime | None:
    """RFC 3339 as msgspec reads it (so the JSON fast path, which lets msgspec parse
    datetimes, agrees on every text it takes), else ISO 8601 as Python reads it."""
    if isinstance(value, _dt.datetime):
        return value
    if _is_null(value):
        return None
    if type(value) is str and len(value) >= 10 and value[4] == "-":
        if value.startswith(_ZERO_DATE):
            return None
        # The API's own form (YYYY-MM-DD HH:MM:SS) reads alike either way, and faster so.
        if len(value) != 19 or value[10] != " ":
            try:
                return _RFC3339.decode(msgspec.json.encode(value))
            except msgspec.ValidationError:
                pass
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise _Unconvertible("a datetime (YYYY-MM-DD HH:MM:SS)")


def _date(value: Any) -> _dt.date | None:
    if type(value) is _dt.date:
        return value
    if _is_null(value):
        return None
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
            if child.children:  # an xml-typed tree too: its lists as documented
                self.nodes[child.name] = _Node(where, child.children)
            else:
                self.leaves[child.name] = CONVERTERS[child.type]


# -- the compiled form of a node -------------------------------------------------------
#
# A page of 20,000 rows runs the same checks half a million times, so each node's
# rules are compiled once into straight-line Python (one statement per documented
# child, no per-key dispatch). The compiled code only converts; when a value will
# not convert it gives up, and the generic walk (``Shape._mapping``) finds and names
# the value. Only names built here and repr()'d element names enter the source.

NodeFunction = Callable[[dict[str, Any], bool], None]


def _blank(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if value == "":
            data[key] = None


def _listify(value: Any) -> list[Any]:
    if value.__class__ is list:
        return value
    return [] if value is None or value == "" else [value]


def _nodes(value: Any) -> list[Any]:
    """A repeated element with children as a list: ``[]`` when empty or ``null``."""
    return [] if _is_null(value) else _listify(value)


def _not_a_dict(compiled: NodeFunction, value: Any, from_json: bool) -> Any:
    if value is None or value == "" or _is_null(value):
        empty: dict[str, Any] = {}
        compiled(empty, from_json)
        return empty
    return _text(value)  # text where children were documented: left as it came


def _leaf_items(convert: Converter, value: Any) -> list[Any]:
    return [None if item is None or item == "" else convert(item) for item in _listify(value)]


def _compile(node: _Node, force_list: frozenset[str]) -> NodeFunction:
    names: dict[str, Any] = {
        "_blank": _blank,
        "_listify": _listify,
        "_nodes": _nodes,
        "_not_a_dict": _not_a_dict,
        "_leaf_items": _leaf_items,
        "_text": _text,
        "_known": frozenset(node.leaves) | frozenset(node.nodes),
        "_outside": lambda data: _outside(data, names["_known"], force_list),
        "_json_tree": lambda value: normalise_json(_text(_empty_to_none(value)), force_list),
    }
    body = [
        "    if from_json:",
        '        if "" in data.values():',
        "            _blank(data)",
        "        if not _known.issuperset(data):",
        "            _outside(data)",
    ]
    texts = []
    for index, (key, convert) in enumerate(node.leaves.items()):
        name = f"_c{index}"
        names[name] = convert
        if convert is _as_decoded:  # an XML tree (a call flow): lists as XML gives them
            body += [
                f"    if from_json and {key!r} in data:",
                f"        data[{key!r}] = _json_tree(data[{key!r}])",
            ]
        elif key in node.repeated:
            body.append(f"    data[{key!r}] = _leaf_items({name}, data.get({key!r}))")
        elif convert is _text:
            texts.append(key)
        else:
            body += [
                f"    value = data.get({key!r})",
                "    if value is not None:",
                f"        data[{key!r}] = {name}(value)",
            ]
    if texts:
        body.append("    if from_json:")
        for key in texts:
            body += [
                f"        value = data.get({key!r})",
                "        if value is not None and value.__class__ is not str:",
                f"            data[{key!r}] = _text(value)",
            ]
    for index, (key, child) in enumerate(node.nodes.items()):
        name = f"_n{index}"
        names[name] = _compile(child, force_list)
        if key in node.repeated:
            body += [
                f"    items = data[{key!r}] = _nodes(data.get({key!r}))",
                "    for index, item in enumerate(items):",
                "        if item.__class__ is dict:",
                f"            {name}(item, from_json)",
                "        else:",
                f"            items[index] = _not_a_dict({name}, item, from_json)",
            ]
        else:
            body += [
                f"    if {key!r} in data:",
                f"        value = data[{key!r}]",
                "        if value.__class__ is dict:",
                f"            {name}(value, from_json)",
                "        else:",
                f"            data[{key!r}] = _not_a_dict({name}, value, from_json)",
            ]
    source = "def convert(data, from_json):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<iovox_async shape {node.path or 'response'}>", "exec"), names)
    return names["convert"]  # type: ignore[no-any-return]


def _outside(data: dict[str, Any], known: frozenset[str], force_list: frozenset[str]) -> None:
    """JSON keys the spec does not list: shaped as their XML form would be."""
    for key, value in data.items():
        if key in known:
            continue
        value = data[key] = _text(_empty_to_none(value))
        if key in force_list and not isinstance(value, list):
            data[key] = [] if value is None else [value]
        elif isinstance(value, (dict, list)):
            normalise_json(value, force_list)


class Shape:
    """How to finish the decoded body of one method (see the module docs)."""

    __slots__ = (
        "_compiled",
        "_root",
        "_wrappers",
        "elements",
        "fast",
        "force_list",
        "has_xml",
        "label",
        "native",
    )

    def __init__(
        self,
        label: str,
        elements: tuple[ElementSpec, ...],
        force_list: frozenset[str],
        *,
        native: bool = False,
    ) -> None:
        self.label = label
        self.native = native
        """JSON is kept as the server typed it (a JSON-first API such as REST v1)."""
        self.elements = elements
        self.has_xml = any(element.type == "xml" for element in elements)
        """Whether a top-level element is XML kept verbatim (a call flow)."""
        self.force_list = force_list
        self._root = _Node("", elements) if elements else None
        self._compiled = None if self._root is None else _compile(self._root, force_list)
        # A list wrapper (``<results>`` holding only ``<result>``) missing at the top
        # level is added, so a page without rows still iterates.
        self._wrappers = tuple(
            element.name
            for element in elements
            if len(element.children) == 1 and element.children[0].repeated
        )
        self.fast: object = None
        """The JSON fast path (:mod:`._fastjson`), built on first use."""

    @property
    def root(self) -> _Node | None:
        """The compiled rules of the response's children (``None``: nothing to convert)."""
        return self._root

    @property
    def wrappers(self) -> tuple[str, ...]:
        """Top-level list wrappers that are added when missing."""
        return self._wrappers

    def finish(self, data: dict[str, Any], from_json: bool) -> dict[str, Any]:
        """Convert ``data`` (the content of ``<response>``) in place and return it."""
        root = self._root
        if root is None:
            if from_json and not self.native:
                normalise_json(data, self.force_list)  # in place: as its XML form reads
            return data
        for name in self._wrappers:
            if data.get(name) is None:
                data[name] = {}
        assert self._compiled is not None
        try:
            self._compiled(data, from_json)
        except _Unconvertible:
            self._mapping(root, data, from_json)  # raises ResponseValueError, naming it
            raise  # pragma: no cover - the generic walk always finds the value
        return data

    def _fail(self, node: _Node, key: str, value: object, error: _Unconvertible) -> None:
        where = f"{node.path}/{key}" if node.path else key
        raise ResponseValueError(self.label, where, value, error.expected) from None

    def _mapping(self, node: _Node, data: dict[str, Any], from_json: bool) -> dict[str, Any]:
        leaves = node.leaves
        repeated = node.repeated
        for key, value in data.items():
            convert = leaves.get(key)
            if convert is _as_decoded:
                if from_json:
                    data[key] = normalise_json(_text(_empty_to_none(value)), self.force_list)
            elif convert is not None:
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
                    items = _nodes(value)
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
        if value is None or value == "" or _is_null(value):
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
NATIVE = Shape("", (), frozenset(), native=True)
"""JSON as the server typed it: the REST v1 endpoints, which answer JSON of their own."""

_SHAPES: dict[tuple[int, bool], tuple[Method, Shape]] = {}


def shape_for(method: Method, *, typed: bool = True) -> Shape:
    """The shape of ``method``'s responses, built once (``typed=False``: lists only)."""
    key = (id(method), typed)
    cached = _SHAPES.get(key)
    if cached is not None and cached[0] is method:
        return cached[1]
    if typed:
        shape = Shape(f"{method.interface}.{method.name}", method.response, method.repeated)
    else:
        shape = Shape("", (), method.repeated)
    _SHAPES[key] = (method, shape)  # the method is kept, so its id stays its own
    return shape
