"""XML in and out: payload encoding, body decoding, error bodies.

Decoding drives expat directly and builds the same dicts as ``xmltodict.parse``
would (attributes as ``@name``, text beside attributes as ``#text``, empty elements
as ``None``, whitespace stripped, namespaces not processed), several times faster;
the tests prove the two agree. Document type declarations are refused outright, so
entity expansion (the "billion laughs" bomb) and external entities never happen.
"""

from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ._errors import ErrorItem, ResponseDecodeError, ValidationError
from ._redact import redact

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# Characters XML 1.0 cannot carry, even escaped (NUL, ESC, U+FFFE, lone surrogates...).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_REFUSED_DTD = (
    "refused an XML body with a document type or entity declaration (the IOVOX API never sends one)"
)


class _DoctypeRefused(ValueError):
    """Raised by the parser itself at a DOCTYPE, before any entity is declared."""


def _refuse_doctype(*_: object) -> None:
    # expat reports the DOCTYPE before reading its internal subset, in any encoding,
    # and a raising handler stops the parse: no entity is ever declared or expanded.
    raise _DoctypeRefused(_REFUSED_DTD)


class _TreeBuilder(ET.TreeBuilder):
    doctype = staticmethod(_refuse_doctype)


class RawXML(str):
    """A string holding an XML fragment to embed as elements, not as escaped text.

    Used for call-flow definitions and other payload values of type ``xml``.
    """


# -- encoding -------------------------------------------------------------------------


def to_api_text(value: object) -> str:
    """One Python scalar as the API writes it (``TRUE``/``FALSE``, dates, numbers)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, _dt.datetime):
        if value.utcoffset() is not None:
            raise ValidationError(
                f"{value.isoformat()} has a UTC offset, but the API reads times in the"
                " account's own timezone, which the client does not know: pass a naive"
                " datetime in that timezone (value.astimezone(zone).replace(tzinfo=None))"
            )
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def _fragment(key: str, value: RawXML) -> str:
    """A raw fragment, checked to be well-formed, spliced in document order.

    If the fragment's root element is ``key`` itself it replaces the element;
    otherwise it becomes the element's content.
    """
    fragment = _XML_DECL.sub("", value)
    root = _parse_tree(("<_>" + fragment + "</_>").encode("utf-8"))
    children = list(root)
    if len(children) == 1 and children[0].tag == key and not (root.text or "").strip():
        return fragment.strip()
    return f"<{key}>{fragment}</{key}>"


def _xml_text(key: str, value: object) -> str:
    """``value`` as escaped text, refused when it holds a character XML cannot carry."""
    text = to_api_text(value)
    bad = _NOT_XML_CHAR.search(text)
    if bad is not None:
        raise ValidationError(
            f"payload field {key!r} holds U+{ord(bad.group()):04X} at position {bad.start()},"
            " which XML cannot carry (control characters other than tab and newline,"
            " U+FFFE/U+FFFF and lone surrogates are refused)"
        )
    return escape(text)


def _checked(key: str, value: object) -> str:
    text = to_api_text(value)
    if _NOT_XML_CHAR.search(text):
        _xml_text(key, text)  # raises, naming the character
    return text


def _write(key: str, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, RawXML):
        out.append(_fragment(key, value))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _write(key, item, out)
    elif isinstance(value, Mapping):
        attributes = "".join(
            f" {name[1:]}={quoteattr(_checked(name, item))}"
            for name, item in value.items()
            if name.startswith("@") and item is not None
        )
        out.append(f"<{key}{attributes}>")
        for name, item in value.items():
            if name == "#text":
                if item is not None:
                    out.append(_xml_text(key, item))
            elif not name.startswith("@"):
                _write(name, item, out)
        out.append(f"</{key}>")
    else:
        out.append(f"<{key}>{_xml_text(key, value)}</{key}>")


def encode_payload(payload: Mapping[str, Any], root: str = "request") -> bytes:
    """Encode a payload tree as a UTF-8 XML document with root ``<request>``.

    Dicts become elements, lists repeated elements, ``True``/``False`` become
    ``TRUE``/``FALSE``, ``None`` is left out, keys starting with ``@`` are attributes,
    ``#text`` is text beside them, and :class:`RawXML` values are spliced in as they
    are (after a well-formedness check), keeping their order.
    """
    out = [XML_DECLARATION, "\n"]
    _write(root, payload, out)
    return "".join(out).encode("utf-8")


# -- decoding -------------------------------------------------------------------------


def _check_safe(body: bytes) -> None:
    if _DOCTYPE.search(body):
        raise ResponseDecodeError(_REFUSED_DTD)


def _parse_tree(body: bytes) -> ET.Element:
    _check_safe(body)
    parser = ET.XMLParser(target=_TreeBuilder(), encoding="utf-8")
    try:
        parser.feed(body)
        return parser.close()
    except _DoctypeRefused:
        raise ResponseDecodeError(_REFUSED_DTD) from None
    except ET.ParseError as exc:
        raise ResponseDecodeError(f"malformed XML: {exc}; body starts {excerpt(body)!r}") from None


def _dict_parser(force_list: frozenset[str]) -> tuple[Any, list[dict[str, Any]]]:
    """An expat parser whose handlers build xmltodict-shaped dicts while it parses.

    No Element tree is built, and expat calls these handlers directly (about twice as
    fast as an ``ET.XMLParser`` target). The open element's content dict (created
    only once it has a child or attributes, so leaves cost no dict), its text and the
    names seen repeated in it live in the closure; each start pushes the parent's.
    The returned list receives the document's top-level dict when parsing ends.
    """
    parser = expat.ParserCreate("utf-8")  # as ET does: the body's bytes are UTF-8
    parser.buffer_text = True  # one text event per run of text, not per line
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    stack: list[tuple[dict[str, Any] | None, Any, set[str] | None]] = []
    top: dict[str, Any] = {}
    content: dict[str, Any] | None = top
    text: str | list[str] | None = None
    grouped: set[str] | None = None

    def start(tag: str, attrib: dict[str, str]) -> None:
        nonlocal content, text, grouped
        stack.append((content, text, grouped))
        content = {f"@{name}": value for name, value in attrib.items()} if attrib else None
        text = None
        grouped = None

    def data(piece: str) -> None:
        nonlocal text
        if text is None:
            text = piece
        elif type(text) is list:
            text.append(piece)
        else:
            text = [text, piece]  # type: ignore[list-item]

    def end(tag: str) -> None:
        nonlocal content, text, grouped
        value: Any = content
        if text is not None:
            stripped = (text if type(text) is str else "".join(text)).strip()
            if value is None:
                value = stripped or None
            elif stripped:
                value["#text"] = stripped
        siblings, text, grouped = stack.pop()
        if siblings is None:
            siblings = {}
        content = siblings
        if tag in force_list:
            existing = siblings.get(tag)
            if existing is None:
                siblings[tag] = [value]
            else:
                existing.append(value)
        elif tag in siblings:
            if grouped is not None and tag in grouped:
                siblings[tag].append(value)
            else:
                siblings[tag] = [siblings[tag], value]
                if grouped is None:
                    grouped = set()
                grouped.add(tag)
        else:
            siblings[tag] = value

    parser.StartElementHandler = start
    parser.CharacterDataHandler = data
    parser.EndElementHandler = end
    return parser, [top]


def decode_document(
    body: bytes, force_list: frozenset[str], *, strip_root: bool = True
) -> dict[str, Any]:
    """Decode an XML body into plain dicts and lists, as ``xmltodict.parse`` would.

    Element names in ``force_list`` always come back as lists. With ``strip_root`` the
    root element (``<response>``) is dropped and its content returned.
    """
    _check_safe(body)
    parser, (top,) = _dict_parser(force_list)
    try:
        parser.Parse(body, True)
    except _DoctypeRefused:
        raise ResponseDecodeError(_REFUSED_DTD) from None
    except expat.ExpatError as exc:
        raise ResponseDecodeError(f"malformed XML: {exc}; body starts {excerpt(body)!r}") from None
    if strip_root:
        content = next(iter(top.values()))
        return content if isinstance(content, dict) else {}
    return top


# -- errors ---------------------------------------------------------------------------


def parse_error_items(body: bytes) -> list[ErrorItem] | None:
    """Every ``<error status="...">`` of an error body, or ``None`` if it is not XML.

    Accepts ``<errors><error .../>...</errors>``, a bare ``<error>`` root, and errors
    nested deeper (``<response><errors>...``).
    """
    if not opening(body):
        return None
    try:
        root = _parse_tree(body.strip())
    except ResponseDecodeError:
        return None
    items = []
    for element in root.iter("error"):
        raw_status = element.get("status")
        status = int(raw_status) if raw_status and raw_status.strip().isdigit() else None
        message = redact("".join(element.itertext()).strip())
        items.append(ErrorItem(status=status, message=message))
    return items


def excerpt(body: bytes, limit: int = 200) -> str:
    """The start of a body as one line of text, for error messages."""
    text = body[: limit * 4].decode("utf-8", errors="replace")
    text = redact(re.sub(r"\s+", " ", text).strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_OPENING = re.compile(rb"\S")


def opening(body: bytes) -> bytes:
    """The first byte of ``body`` that is not whitespace (``b""`` for a blank body),
    found without copying the body as ``strip()`` would."""
    first = body[:1]  # one-byte bytes are shared objects: no copy
    if first and not first.isspace():
        return first
    found = _OPENING.search(body)
    return b"" if found is None else found.group()


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, lower case (``""`` when there is none)."""
    if not content_type:
        return ""
    return content_type.partition(";")[0].strip().lower()


def is_xml(first: bytes, kind: str) -> bool:
    """Whether a body opening with ``first`` (see :func:`opening`) and labelled with
    the media type ``kind`` should be decoded as XML."""
    if kind:
        if kind.endswith(("/xml", "+xml")):
            return True
        if kind.startswith(("audio/", "application/octet-stream", "video/", "image/")):
            return False
    return first == b"<"
