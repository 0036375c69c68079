"""A C-speed path for JSON bodies: msgspec reads the spec's tree, Python converts the leaves.

The generic path (``json.loads``, then :meth:`Shape.finish`) is the definition of
the result; this path produces exactly the same result, faster, or declines and
lets the generic path run. A big ``getCallData`` page is where it pays: msgspec
decodes the rows into dicts whose keys come from the spec (no per-row key
strings), and the leaves are converted by straight-line code compiled per element,
with the common forms (``"180"``, ``"2026-10-01 08:30:05"``, ``"1"``) handled
inline and everything else handed to the generic converters.

It declines (returns ``None``) whenever it cannot vouch for the result:

- a value is not what msgspec was told (a JSON number, a list where one value was
  documented, text where children were): the generic path shapes these;
- a value will not convert: the generic path raises the error that names it;
- the body holds a key the spec does not list. msgspec would drop it silently, so
  the keys are counted: every key of compact or ``json.dumps``-spaced JSON ends
  with ``":``, so the body's count of ``":`` equals the keys decoded only when none
  was dropped (an escaped ``\\":`` inside a text only raises the count, and so
  only ever makes the path decline). This relies on an encoder writing every key
  alike (no whitespace before a colon), as every JSON encoder does.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypedDict, TypeVar

import msgspec

from ._convert import (
    CONVERTERS,
    Shape,
    _as_decoded,
    _blank,
    _leaf_items,
    _listify,
    _Node,
    _text,
    _Unconvertible,
)

T = TypeVar("T")

_typed_dict: Any = TypedDict  # the functional form, with names built at run time

FastFunction = Callable[[dict[str, Any]], int]
"""Converts one decoded element's children in place; returns the keys it decoded."""
FastSteps = Callable[[dict[str, Any]], Generator[None, None, int]]
"""A :data:`FastFunction` above the rows: a generator that pauses after each chunk of
rows (see :data:`ROWS_PER_DECODE`), so its caller can let the event loop in."""

_FAST_BOOLEANS = {
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "TRUE": True,
    "FALSE": False,
    "True": True,
    "False": False,
}
"""The spellings :func:`_convert._boolean` reads (it lowercases), looked up without a call."""


def _has_xml(node: _Node) -> bool:
    return any(c is _as_decoded for c in node.leaves.values()) or any(
        _has_xml(child) for child in node.nodes.values()
    )


def _msgspec_type(node: _Node, counter: list[int], in_list: bool = False) -> Any:
    """A ``TypedDict`` for the children of ``node``: every leaf text (or null). The
    outermost repeated elements (the rows) are kept as raw JSON, decoded later in chunks."""
    fields: dict[str, Any] = {}
    for key in node.leaves:
        leaf: Any = str | None
        fields[key] = list[leaf] | leaf if key in node.repeated else leaf
    for key, child in node.nodes.items():
        if key in node.repeated and not in_list:
            fields[key] = msgspec.Raw  # null included: msgspec reads it as Raw only alone
            continue
        inner: Any = _msgspec_type(child, counter, in_list) | None
        fields[key] = list[inner] | inner if key in node.repeated else inner
    counter[0] += 1
    return _typed_dict(f"_Fast{counter[0]}", fields, total=False)


ROWS_PER_DECODE = 500
"""Rows msgspec decodes in one call. A call holds the GIL throughout; between two calls
the event loop's thread can take it, so a big page in a worker thread never holds the
loop for the whole decode."""

_RAW_LIST: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])


class _Rows:
    """Decodes one repeated element kept raw: an object is one item, an array is
    split (one C-speed scan) and decoded :data:`ROWS_PER_DECODE` items at a time."""

    __slots__ = ("_many", "_one")

    def __init__(self, item: Any) -> None:
        self._one: msgspec.json.Decoder[Any] = msgspec.json.Decoder(item)
        self._many: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[item])

    def __call__(self, raw: msgspec.Raw | None) -> Iterator[list[Any]]:
        """The items, decoded a chunk at a time as the caller asks for them."""
        if raw is None:
            return  # absent
        opening = memoryview(raw)[:1].tobytes()
        if opening == b"n":
            return  # null: the API's empty element
        if opening == b"{":
            yield [self._one.decode(raw)]
            return
        if opening != b"[":
            raise _Unconvertible("rows")  # text or a number where rows were documented
        parts = _RAW_LIST.decode(raw)
        if len(parts) <= ROWS_PER_DECODE:
            yield self._many.decode(raw)
            return
        for start in range(0, len(parts), ROWS_PER_DECODE):
            yield self._many.decode(b"[" + b",".join(parts[start : start + ROWS_PER_DECODE]) + b"]")


def _empty_node(compiled: FastFunction) -> dict[str, Any]:
    empty: dict[str, Any] = {}
    compiled(empty)
    return empty


def _empty_node_steps(compiled: FastSteps) -> Generator[None, None, dict[str, Any]]:
    empty: dict[str, Any] = {}
    yield from compiled(empty)
    return empty


def _compile_fast(node: _Node, in_list: bool = False) -> Any:
    """Straight-line code for ``node``'s children, as decoded by the msgspec type: a
    :data:`FastFunction` inside the rows, a :data:`FastSteps` generator above them."""
    names: dict[str, Any] = {
        "_blank": _blank,
        "_listify": _listify,
        "_leaf_items": _leaf_items,
        "_empty_node": _empty_node,
        "_empty_node_steps": _empty_node_steps,
        "_int": int,
        "_datetime": _dt.datetime.fromisoformat,
        "_date": _dt.date.fromisoformat,
        "_booleans": _FAST_BOOLEANS,
    }
    # Leaves are text or None here; "" is blanked first, as the generic path does.
    body = [
        '    if "" in data.values():',
        "        _blank(data)",
        "    count = len(data)",
    ]
    for index, (key, convert) in enumerate(node.leaves.items()):
        name = f"_c{index}"
        names[name] = convert
        if key in node.repeated:
            body.append(f"    data[{key!r}] = _leaf_items({name}, data.get({key!r}))")
            continue
        if convert is _text:
            continue  # already text
        body += [f"    value = data.get({key!r})", "    if value is not None:"]
        # Each inline form is one the generic converter turns into the very same value.
        if convert is CONVERTERS["integer"]:
            body += [
                "        if value.isdigit() and value.isascii():",
                f"            data[{key!r}] = _int(value)",
                "        else:",
                f"            data[{key!r}] = {name}(value)",
            ]
        elif convert is CONVERTERS["boolean"]:
            body += [
                "        found = _booleans.get(value)",
                f"        data[{key!r}] = {name}(value) if found is None else found",
            ]
        elif convert is CONVERTERS["datetime"]:
            body += [
                '        if len(value) == 19 and value[4] == "-" and value[0] != "0":',
                f"            data[{key!r}] = _datetime(value)",
                "        else:",
                f"            data[{key!r}] = {name}(value)",
            ]
        elif convert is CONVERTERS["date"]:
            body += [
                '        if len(value) == 10 and value[4] == "-" and value[0] != "0":',
                f"            data[{key!r}] = _date(value)",
                "        else:",
                f"            data[{key!r}] = {name}(value)",
            ]
        else:
            body.append(f"        data[{key!r}] = {name}(value)")
    for index, (key, child) in enumerate(node.nodes.items()):
        name = f"_n{index}"
        names[name] = _compile_fast(child, in_list or key in node.repeated)
        if key in node.repeated and in_list:
            body += [
                f"    items = data[{key!r}] = _listify(data.get({key!r}))",
                "    for index, item in enumerate(items):",
                "        if item is None:",
                f"            items[index] = _empty_node({name})",
                "        else:",
                f"            count += {name}(item)",
            ]
        elif key in node.repeated:  # the rows: decoded a chunk at a time, a pause after each
            names[f"_rows{index}"] = _Rows(_msgspec_type(child, [0], True) | None)
            body += [
                f"    chunks = _rows{index}(data.get({key!r}))",
                f"    items = data[{key!r}] = []",
                "    for chunk in chunks:",
                "        for item in chunk:",
                "            if item is None:",
                f"                item = _empty_node({name})",
                "            else:",
                f"                count += {name}(item)",
                "            items.append(item)",
                "        yield",
            ]
        else:
            empty = "_empty_node" if in_list else "yield from _empty_node_steps"
            descend = "" if in_list else "yield from "
            body += [
                f"    if {key!r} in data:",
                f"        value = data[{key!r}]",
                "        if value is None:",
                f"            data[{key!r}] = {empty}({name})",
                "        else:",
                f"            count += {descend}{name}(value)",
            ]
    if not in_list:
        body += ["    if False:", "        yield  # a generator even without rows"]
    body.append("    return count")
    source = "def convert(data):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<iovox_async fast json {node.path or 'response'}>", "exec"), names)
    return names["convert"]


class FastJson:
    """The fast path of one :class:`Shape` (see the module docs)."""

    __slots__ = ("_compiled", "_decoder", "_wrappers")

    def __init__(self, root: _Node, wrappers: tuple[str, ...]) -> None:
        envelope = _typed_dict("_FastEnvelope", {"response": _msgspec_type(root, [0])})
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(envelope)
        self._compiled = _compile_fast(root)
        self._wrappers = wrappers

    def steps(self, body: bytes) -> Generator[None, None, dict[str, Any] | None]:
        """:meth:`decode` in steps: it pauses after each C-speed pass over the body and
        after each chunk of rows; its return value is what :meth:`decode` returns."""
        try:
            data: dict[str, Any] = self._decoder.decode(body)["response"]
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
            return None
        yield
        added = 0
        for name in self._wrappers:  # as Shape.finish does
            if data.get(name) is None:
                added += name not in data
                data[name] = {}
        try:
            keys = 1 + (yield from self._compiled(data)) - added
        except (_Unconvertible, msgspec.DecodeError, ValueError, TypeError, AttributeError):
            return None
        if keys != body.count(b'":'):
            return None  # a key outside the spec was dropped (or a text holds \":)
        return data

    def decode(self, body: bytes) -> dict[str, Any] | None:
        """``body`` (empty texts already null) decoded and finished, or ``None``."""
        return run_steps(self.steps(body))


def run_steps(steps: Generator[None, None, T]) -> T:
    """Run ``steps`` to the end on this thread; its return value."""
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


_NONE = object()


def fast_json(shape: Shape) -> FastJson | None:
    """The fast path of ``shape``, built on first use; ``None`` where there is none
    (no spec tree, JSON kept as the server typed it, or XML-typed values)."""
    fast = shape.fast
    if fast is None:
        root = shape.root
        if root is None or shape.native or _has_xml(root):
            fast = _NONE
        else:
            fast = FastJson(root, shape.wrappers)
        shape.fast = fast
    return None if fast is _NONE else fast  # type: ignore[return-value]
