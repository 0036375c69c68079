"""A C-speed path for JSON bodies: msgspec decodes and converts, Python finishes the rest.

The generic path (``json.loads``, then :meth:`Shape.finish`) is the definition of
the result; this path produces exactly the same result, faster, or declines and
lets the generic path run. A big ``getCallData`` page is where it pays.

msgspec decodes the body into ``Struct`` types built from the spec tree (C-speed
objects with the spec's keys, so no per-row key strings are built), then turns them
into dicts in one C call (:func:`msgspec.to_builtins`, absent elements left out):

- text leaves are decoded as non-empty ``str`` (``""`` is made ``null`` first, see
  :func:`empty_as_null`; one left over makes the path decline);
- typed leaves are converted by msgspec, in C, in its lax mode: ``integer`` from
  ``"180"`` (or ``"1e3"``), ``boolean`` from ``"1"``/``"0"``/``"true"``/``"false"``,
  ``datetime`` from RFC 3339 without an offset (``2026-10-01 08:30:05``, ``T``, a
  fraction), ``date`` from ``YYYY-MM-DD``; the text ``null`` is null. The generic
  converters read every such text exactly as msgspec does (see :mod:`._convert`).
  An offset or a Unix time (lax mode would read one) makes the path decline.

It declines (returns ``None``) whenever it cannot vouch for the result, and the
generic path runs instead:

- a value is not what msgspec was told (a JSON number, ``""``, a list where one value
  was documented, text where children were): the generic path shapes these;
- a value will not convert: the generic path raises the error that names it;
- the body holds a key the spec does not list (every ``Struct`` forbids unknown
  fields): the generic path keeps it, as text.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Generator, Iterator
from itertools import compress, repeat
from operator import not_
from typing import Annotated, Any, Protocol

import msgspec

from ._convert import (
    CONVERTERS,
    Converter,
    Shape,
    _leaf_items,
    _listify,
    _Node,
    _Unconvertible,
)
from ._steps import run_steps

_Text = Annotated[str, msgspec.Meta(min_length=1)]
"""A text leaf as msgspec reads it: ``""`` is refused, so one that is left declines."""

_LEAF_TYPES: dict[Converter, Any] = {
    CONVERTERS["string"]: _Text,
    CONVERTERS["integer"]: int,
    CONVERTERS["boolean"]: bool,
    CONVERTERS["datetime"]: Annotated[_dt.datetime, msgspec.Meta(tz=False)],
    CONVERTERS["date"]: _dt.date,
}
"""What msgspec decodes each kind of leaf as; a shape with any other leaf has no fast path."""

_BUILTINS = (_dt.datetime, _dt.date, msgspec.Raw)
"""What :func:`msgspec.to_builtins` leaves as it is."""

ROWS_PER_DECODE = 1000
"""Rows converted (and, on a page above :data:`ONE_PASS_BYTES`, decoded) in one step:
the caller may let the event loop in between two steps."""

ONE_PASS_BYTES = 6 * 1024 * 1024
"""Bodies up to this size are decoded, rows and all, in one msgspec call, then turned
into dicts in another (each about 10 ms at this size here, 20-30 ms on a busy machine).
Above it the rows are kept raw and decoded a chunk at a time, so that no step holds
the event loop for long."""

ItemFunction = Callable[[dict[str, Any]], None]
"""Finishes one decoded element inside the rows, in place."""
RowsFunction = Callable[[list[dict[str, Any]]], None]
"""Finishes a chunk of rows, in place."""
NodeSteps = Callable[[dict[str, Any]], Generator[None, None, None]]
"""Finishes the elements above the rows: a generator that pauses after each chunk of
rows (see :data:`ROWS_PER_DECODE`), so its caller can let the event loop in."""


def empty_as_null(body: bytes) -> bytes:
    """``"key": ""`` as ``"key": null``, so an empty element decodes to None like XML's
    ``<key/>``: a C-speed rewrite of the bytes instead of a Python pass per row.

    It is exact: inside a JSON string every quote is escaped, so an unescaped
    ``":""`` (closing quote, colon, two quotes) is always a key and an empty string.
    Only the spacing the body's first key uses is rewritten (an encoder spaces every
    key alike); an empty string left in any other spacing is still blanked, by the
    finishing pass, so this only saves work.
    """
    first = body.find(b'":')
    if first < 0:
        return body
    if body[first + 2 : first + 3] == b" ":
        empty, null = b'": ""', b'": null'
    else:
        empty, null = b'":""', b'":null'
    # Split and join: about twice as fast as bytes.replace, which scans the body twice.
    return null.join(body.split(empty))


def _supported(node: _Node) -> bool:
    return all(convert in _LEAF_TYPES for convert in node.leaves.values()) and all(
        _supported(child) for child in node.nodes.values()
    )


def keyed_struct(name: str, fields: dict[str, Any], default: Any = msgspec.UNSET) -> Any:
    """A ``Struct`` with these keys (as attributes ``f0``, ``f1``, ... so that any
    element name works), each ``default`` unless the body holds it (absent: left out
    by :func:`msgspec.to_builtins`), and no others."""
    return msgspec.defstruct(
        name,
        [(f"f{index}", kind, default) for index, kind in enumerate(fields.values())],
        rename={f"f{index}": key for index, key in enumerate(fields)},
        forbid_unknown_fields=True,
        gc=False,  # never in a cycle: the collector need not track them
    )


def _msgspec_type(node: _Node, counter: list[int], *, raw_rows: bool, in_list: bool) -> Any:
    """The ``Struct`` for the children of ``node`` (see the module docs). With
    ``raw_rows`` the outermost repeated elements (the rows) are kept as raw JSON."""
    fields: dict[str, Any] = {}
    for key, convert in node.leaves.items():
        leaf: Any = _LEAF_TYPES[convert] | None
        # One text where a list is documented is left to Python, and so is "null":
        # lax mode would read it as null, the generic path as a list of one null.
        fields[key] = list[leaf] | _Text | None if key in node.repeated else leaf
    for key, child in node.nodes.items():
        repeated = key in node.repeated
        if repeated and raw_rows and not in_list:
            fields[key] = msgspec.Raw  # null included: msgspec reads it as Raw only alone
            continue
        inner: Any = (
            _msgspec_type(child, counter, raw_rows=raw_rows, in_list=in_list or repeated) | None
        )
        fields[key] = list[inner] | inner if repeated else inner
    counter[0] += 1
    return keyed_struct(f"_Fast{counter[0]}", fields)


def _to_dicts(decoded: Any) -> Any:
    return msgspec.to_builtins(decoded, builtin_types=_BUILTINS)


_RAW_LIST: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])


class _Chunks:
    """The rows of one repeated element, a chunk of :data:`ROWS_PER_DECODE` at a time:
    as they were decoded with the body, or decoded here from raw JSON (an object is
    one row, an array is split in one C-speed scan)."""

    __slots__ = ("_many", "_one")

    def __init__(self, item: Any) -> None:
        self._one: msgspec.json.Decoder[Any] = msgspec.json.Decoder(item, strict=False)
        self._many: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[item], strict=False)

    def __call__(self, value: Any) -> Iterator[list[Any]]:
        if value is None:
            return  # absent, or null: the API's empty element
        if value.__class__ is list:
            for start in range(0, len(value), ROWS_PER_DECODE):
                yield value[start : start + ROWS_PER_DECODE]
        elif value.__class__ is dict:
            yield [value]
        else:
            yield from self._decoded(value)

    def _decoded(self, raw: msgspec.Raw) -> Iterator[list[Any]]:
        opening = memoryview(raw)[:1].tobytes()
        if opening == b"n":
            return
        if opening == b"{":
            yield [_to_dicts(self._one.decode(raw))]
            return
        if opening != b"[":
            raise _Unconvertible("rows")  # text or a number where rows were documented
        parts = _RAW_LIST.decode(raw)
        if len(parts) <= ROWS_PER_DECODE:
            yield _to_dicts(self._many.decode(raw))
            return
        for start in range(0, len(parts), ROWS_PER_DECODE):
            chunk = b"[" + b",".join(parts[start : start + ROWS_PER_DECODE]) + b"]"
            yield _to_dicts(self._many.decode(chunk))


_keys_disjoint: Callable[[Any, Any], bool] = type({}.keys()).isdisjoint
"""``dict.keys().isdisjoint``: it loops over the smaller side; a set, over its argument."""


def _holding(rows: list[dict[str, Any]], keys: frozenset[str]) -> Iterator[dict[str, Any]]:
    """The rows that hold any of ``keys``, found without a Python step per row."""
    return compress(rows, map(not_, map(_keys_disjoint, map(dict.keys, rows), repeat(keys))))


# -- the compiled form of each node ----------------------------------------------------
#
# Straight-line code per node, as :mod:`._convert` compiles it for the generic path;
# only names built here and repr()'d element names enter the source.


def _empty_node(compiled: ItemFunction) -> dict[str, Any]:
    empty: dict[str, Any] = {}
    compiled(empty)
    return empty


def _empty_steps(compiled: NodeSteps) -> Generator[None, None, dict[str, Any]]:
    empty: dict[str, Any] = {}
    yield from compiled(empty)
    return empty


_NAMES: dict[str, Any] = {
    "_empty_node": _empty_node,
    "_empty_steps": _empty_steps,
    "_holding": _holding,
    "_leaf_items": _leaf_items,
    "_listify": _listify,
}


def _leaves(node: _Node, names: dict[str, Any]) -> list[str]:
    """Source lines that make ``data``'s list leaves lists."""
    body = []
    for index, (key, convert) in enumerate(node.leaves.items()):
        if key in node.repeated:
            names[f"_l{index}"] = convert
            body.append(f"    data[{key!r}] = _leaf_items(_l{index}, data.get({key!r}))")
    return body


def _children(node: _Node, names: dict[str, Any]) -> list[str]:
    """Source lines that finish ``data``'s children with children, inside the rows."""
    body = []
    for index, (key, child) in enumerate(node.nodes.items()):
        name = f"_n{index}"
        names[name] = _compile_item(child)
        if key in node.repeated:
            body += [
                f"    items = data[{key!r}] = _listify(data.get({key!r}))",
                "    for index, item in enumerate(items):",
                "        if item is None:",
                f"            items[index] = _empty_node({name})",
                "        else:",
                f"            {name}(item)",
            ]
        else:
            body += [
                f"    value = data.get({key!r}, data)",
                "    if value is None:",
                f"        data[{key!r}] = _empty_node({name})",
                "    elif value is not data:",
                f"        {name}(value)",
            ]
    return body


def _define(source: str, names: dict[str, Any], where: str) -> Any:
    exec(compile(source, f"<iovox_async fast json {where or 'response'}>", "exec"), names)
    return names["finish"]


def _compile_item(node: _Node) -> ItemFunction:
    """One element inside the rows, finished on its own."""
    names = dict(_NAMES)
    body = [*_leaves(node, names), *_children(node, names), "    pass"]
    source = "def finish(data):\n" + "\n".join(body) + "\n"
    return _define(source, names, node.path)  # type: ignore[no-any-return]


def _compile_rows(node: _Node) -> RowsFunction:
    """A chunk of rows: row by row, and only the rows that hold lists or children
    with children (msgspec has converted every single leaf)."""
    names: dict[str, Any] = dict(_NAMES)
    body = []
    below = [*_leaves(node, names), *_children(node, names)]
    if below:
        if node.repeated:  # every row gets its lists, [] when absent
            body.append("    for data in rows:")
        else:
            names["_holders"] = frozenset(node.nodes)
            body.append("    for data in _holding(rows, _holders):")
        body += ["    " + line for line in below]
    body.append("    pass")
    source = "def finish(rows):\n" + "\n".join(body) + "\n"
    return _define(source, names, node.path)  # type: ignore[no-any-return]


def _compile_steps(node: _Node, chunks: dict[str, _Chunks]) -> NodeSteps:
    """An element above the rows; each chunk of rows is followed by a pause."""
    names: dict[str, Any] = dict(_NAMES)
    body = _leaves(node, names)
    for index, (key, child) in enumerate(node.nodes.items()):
        if key in node.repeated:  # the rows
            names[f"_chunks{index}"] = chunks[child.path]
            names[f"_rows{index}"] = _compile_rows(child)
            body += [
                f"    chunks = _chunks{index}(data.get({key!r}))",
                f"    items = data[{key!r}] = []",
                "    for chunk in chunks:",
                "        if None in chunk:  # a null row: an empty one, finished alike",
                "            chunk = [{} if row is None else row for row in chunk]",
                f"        _rows{index}(chunk)",
                "        items += chunk",
                "        yield",
            ]
        else:
            names[f"_n{index}"] = _compile_steps(child, chunks)
            body += [
                f"    value = data.get({key!r}, data)",
                "    if value is None:",
                f"        data[{key!r}] = yield from _empty_steps(_n{index})",
                "    elif value is not data:",
                f"        yield from _n{index}(value)",
            ]
    body += ["    if False:", "        yield  # a generator even without rows"]
    source = "def finish(data):\n" + "\n".join(body) + "\n"
    return _define(source, names, node.path)  # type: ignore[no-any-return]


def _row_chunks(node: _Node, found: dict[str, _Chunks], in_list: bool = False) -> None:
    """A :class:`_Chunks` for each outermost repeated element (the rows), by path."""
    for key, child in node.nodes.items():
        if key in node.repeated and not in_list:
            item = _msgspec_type(child, [0], raw_rows=False, in_list=True) | None
            found[child.path] = _Chunks(item)
        else:
            _row_chunks(child, found, in_list or key in node.repeated)


class JsonPath(Protocol):
    """A C-speed decoding of one shape's JSON bodies (a :attr:`Shape.fast`): it returns
    the finished content of ``{"response": ...}``, or ``None`` where it cannot vouch
    for the result and the generic path must run."""

    def steps(self, body: bytes) -> Generator[None, None, dict[str, Any] | None]:
        """:meth:`decode` in steps, pausing between C-speed passes."""
        ...

    def decode(self, body: bytes) -> dict[str, Any] | None:
        """The body decoded and finished, or ``None``."""
        ...


class FastJson:
    """The fast path of one :class:`Shape` (see the module docs)."""

    __slots__ = ("_finish", "_split", "_whole", "_wrappers")

    def __init__(self, root: _Node, wrappers: tuple[str, ...]) -> None:
        def decoder(raw_rows: bool) -> msgspec.json.Decoder[Any]:
            content = _msgspec_type(root, [0], raw_rows=raw_rows, in_list=False)
            envelope = keyed_struct("_FastEnvelope", {"response": content})
            return msgspec.json.Decoder(envelope, strict=False)

        self._whole = decoder(False)
        self._split = decoder(True)
        chunks: dict[str, _Chunks] = {}
        _row_chunks(root, chunks)
        self._finish = _compile_steps(root, chunks)
        self._wrappers = wrappers

    def steps(self, body: bytes) -> Generator[None, None, dict[str, Any] | None]:
        """:meth:`decode` in steps: it pauses after each C-speed pass over the body and
        after each chunk of rows; its return value is what :meth:`decode` returns."""
        body = empty_as_null(body)
        yield
        decoder = self._whole if len(body) <= ONE_PASS_BYTES else self._split
        try:
            decoded = decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        yield
        data: dict[str, Any] | None = _to_dicts(decoded).get("response")
        del decoded
        if data is None:
            return None
        yield
        for name in self._wrappers:  # as Shape.finish does
            if data.get(name) is None:
                data[name] = {}
        try:
            yield from self._finish(data)
        except (_Unconvertible, msgspec.DecodeError, msgspec.ValidationError):
            return None
        return data

    def decode(self, body: bytes) -> dict[str, Any] | None:
        """``body`` decoded and finished, or ``None``."""
        return run_steps(self.steps(body))


_NONE = object()


def fast_json(shape: Shape) -> JsonPath | None:
    """The fast path of ``shape``, built on first use; ``None`` where there is none
    (no spec tree, JSON kept as the server typed it, or XML-typed values)."""
    fast = shape.fast
    if fast is None:
        root = shape.root
        if root is None or shape.native or not _supported(root):
            fast = _NONE
        else:
            fast = FastJson(root, shape.wrappers)
        shape.fast = fast
    return None if fast is _NONE else fast  # type: ignore[return-value]
