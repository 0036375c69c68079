"""Request bodies: safe XML parsing into plain dicts, guided by the payload spec.

Document type and entity declarations are refused before parsing, so entity
expansion and external entities never happen. Parse failures become the API's
``XML parse error. <message> at line y, column z``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from .._spec import ElementSpec

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class BodyError(Exception):
    """The body is empty or not well-formed; ``message`` is the text after ``XML``."""

    def __init__(self, kind: str, detail: str = "", line: int = 0, column: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        """``empty`` or ``parse``."""
        self.detail = detail
        self.line = line
        self.column = column


def _position(body: bytes, offset: int) -> tuple[int, int]:
    before = body[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def parse_body(body: bytes) -> ET.Element:
    """The root element of a request body; raises :class:`BodyError`."""
    if not body.strip():
        raise BodyError("empty")
    forbidden = _FORBIDDEN.search(body)
    if forbidden is not None:
        line, column = _position(body, forbidden.start())
        raise BodyError(
            "parse", "Document type and entity declarations are not allowed", line, column
        )
    parser = ET.XMLParser(encoding="utf-8")
    try:
        parser.feed(body)
        return parser.close()
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        detail = str(exc).split(": line ", 1)[0]
        detail = detail[:1].upper() + detail[1:]
        raise BodyError("parse", detail, line, column + 1) from None


def _children(specs: tuple[ElementSpec, ...]) -> dict[str, ElementSpec]:
    return {spec.name: spec for spec in specs if not spec.name.startswith("@")}


def to_data(element: ET.Element, specs: tuple[ElementSpec, ...] = ()) -> Any:
    """An element as plain data: text, or a dict of ``@attributes`` and children.

    Children the spec marks ``repeated`` are always lists (the spec is followed by
    path, so a child named like its parent is told apart); other children become a
    list only when they occur more than once.
    """
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    data: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    known = _children(specs)
    for child in children:
        spec = known.get(child.tag)
        value = to_data(child, spec.children if spec else ())
        if spec is not None and spec.repeated:
            data.setdefault(child.tag, []).append(value)
        elif child.tag in data:
            existing = data[child.tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                data[child.tag] = [existing, value]
        else:
            data[child.tag] = value
    if text:
        data["#text"] = text
    return data


def serialise(element: ET.Element) -> str:
    """An element back to XML text (for stored call flows)."""
    return ET.tostring(element, encoding="unicode").strip()
