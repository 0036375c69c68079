"""Response elements typed ``xml`` in the spec, kept verbatim beside their dicts.

A call flow's rules run in document order, but dicts group them by element name.
So for every element directly under ``<response>`` whose spec type is ``xml``
(``callFlow``, ``smsFlow``, ``emailFlow``), the decoded result also gets
``<name>_xml``: the element's exact text from the body as a :class:`RawXML`,
which can be sent back unchanged (``update_call_flow(call_flow=...)``) or parsed by
:meth:`iovox_async.callflow.CallFlow.from_xml`. The text is cut from the body at
the parser's byte offsets, so nothing is re-serialised: quotes, entities and
whitespace stay as the server wrote them.
"""

from __future__ import annotations

import xml.parsers.expat as expat
from typing import Any

from ._spec import ElementSpec
from ._xml import RawXML

SUFFIX = "_xml"


class _Refused(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Refused


def _fragments(body: bytes, names: frozenset[str]) -> list[tuple[str, str]]:
    """``(name, text)`` of each element named in ``names`` directly under the root."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    found: list[tuple[str, str]] = []
    depth = 0
    opened: tuple[str, int] | None = None
    quiet = False  # no event since the element opened: it may be self-closing

    def start(name: str, _attributes: object) -> None:
        nonlocal depth, opened, quiet
        depth += 1
        quiet = True
        if depth == 2 and name in names:
            opened = (name, parser.CurrentByteIndex)

    def end(name: str) -> None:
        nonlocal depth, opened, quiet
        if depth == 2 and opened is not None:
            start_at, stop = opened[1], parser.CurrentByteIndex
            if not (quiet and body[stop - 2 : stop] == b"/>"):
                stop = body.index(b">", stop) + 1  # past this element's end tag
            found.append((name, body[start_at:stop].decode("utf-8")))
            opened = None
        depth -= 1
        quiet = False

    def other(_data: str) -> None:
        nonlocal quiet
        quiet = False

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = other
    parser.CommentHandler = other
    parser.ProcessingInstructionHandler = lambda *_: other("")
    try:
        parser.Parse(body, True)
    except (_Refused, expat.ExpatError, UnicodeDecodeError, ValueError):
        return []  # the dict decoding has already judged the body; keep what it made
    return found


def attach_verbatim(
    data: dict[str, Any], body: bytes, elements: tuple[ElementSpec, ...]
) -> dict[str, Any]:
    """Add ``<name>_xml`` to ``data`` for each top-level ``xml``-typed element present."""
    names = frozenset(element.name for element in elements if element.type == "xml")
    if not names:
        return data
    repeated = {element.name for element in elements if element.repeated}
    for name, text in _fragments(body, names):
        key = name + SUFFIX
        if name in repeated:
            data.setdefault(key, []).append(RawXML(text))
        else:
            data.setdefault(key, RawXML(text))
    return data
