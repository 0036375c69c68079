"""The API's wire formats: error bodies, XML and JSON success bodies, replies.

Error bodies are ``<?xml version="1.0" encoding="utf-8"?>`` + ``<errors>`` with one
``<error status="...">`` per problem; success bodies are
``<?xml version="1.0" encoding="UTF-8"?>`` + ``<response>``. Both go out as
``text/xml`` with no charset, as the API sends them. JSON mirrors the XML tree
with every scalar as a string and a single repeated item as an object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

XML_CONTENT_TYPE = "text/xml"
JSON_CONTENT_TYPE = "application/json"
ERROR_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
RESPONSE_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

Tree = Mapping[str, Any]
"""A response tree: str/int scalars, None (empty element), dicts, lists (repeated)."""


class ApiError(Exception):
    """One or more API errors, answered as one ``<errors>`` body.

    The HTTP status is the first error's status.
    """

    def __init__(self, *messages: str, status: int = 400) -> None:
        self.items: list[tuple[int, str]] = [(status, message) for message in messages]
        super().__init__("; ".join(messages))

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]]) -> ApiError:
        """An error from ``(status, message)`` pairs."""
        error = cls()
        error.items = list(items)
        error.args = ("; ".join(message for _, message in error.items),)
        return error

    @property
    def status(self) -> int:
        """The HTTP status of the answer: the first error's."""
        return self.items[0][0] if self.items else 400


@dataclass
class Reply:
    """What a handler answers: status, body bytes and headers."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def error_body(items: Sequence[tuple[int, str]]) -> bytes:
    """The API's error document for ``(status, message)`` pairs."""
    inner = "".join(
        f'<error status="{status}">{escape(message)}</error>' for status, message in items
    )
    return (ERROR_DECLARATION + "<errors>" + inner + "</errors>").encode("utf-8")


def error_reply(
    items: Sequence[tuple[int, str]], headers: list[tuple[str, str]] | None = None
) -> Reply:
    """A reply carrying the error document; the status is the first error's."""
    status = items[0][0] if items else 400
    return Reply(status, error_body(items), XML_CONTENT_TYPE, list(headers or []))


# -- XML ------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def write_element(tag: str, value: Any, out: list[str]) -> None:
    """Append ``value`` as element ``tag``; lists repeat the element, ``@keys`` are attributes."""
    if isinstance(value, str) and not isinstance(value, RawXml):
        out.append(f"<{tag}>{escape(value)}</{tag}>")
        return
    if isinstance(value, list | tuple):
        for item in value:
            write_element(tag, item, out)
        return
    if value is None:
        out.append(f"<{tag}/>")
        return
    if isinstance(value, dict | Mapping):
        attributes = "".join(
            f" {key[1:]}={quoteattr(_scalar(item))}"
            for key, item in value.items()
            if key.startswith("@") and item is not None
        )
        out.append(f"<{tag}{attributes}>")
        for key, item in value.items():
            if key == "#text":
                out.append(escape(_scalar(item)))
            elif not key.startswith("@"):
                write_element(key, item, out)
        out.append(f"</{tag}>")
        return
    if isinstance(value, RawXml):
        out.append(str(value))
        return
    out.append(f"<{tag}>{escape(_scalar(value))}</{tag}>")


class RawXml(str):
    """An already-serialised element, written as is (a stored call flow)."""


def render_xml(tree: Tree) -> bytes:
    """``tree`` as a ``<response>`` document."""
    out = [RESPONSE_DECLARATION, "<response>"]
    for key, value in tree.items():
        write_element(key, value, out)
    out.append("</response>")
    return "".join(out).encode("utf-8")


# -- JSON -----------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """The JSON form of a tree value: strings everywhere, a lone list item unwrapped."""
    if isinstance(value, list | tuple):
        items = [json_value(item) for item in value]
        return items[0] if len(items) == 1 else items
    if value is None:
        return ""
    if isinstance(value, RawXml):
        return str(value)
    if isinstance(value, Mapping):
        return {
            (key[1:] if key.startswith("@") else key): json_value(item)
            for key, item in value.items()
            if not (isinstance(item, list | tuple) and not item)
        }
    return _scalar(value)


def render_json(tree: Tree) -> bytes:
    """``tree`` as ``{"response": {...}}``."""
    return json.dumps({"response": json_value(tree)}).encode("utf-8")


def render(tree: Tree, output: str) -> tuple[bytes, str]:
    """Body and content type for ``output`` (``XML`` or ``JSON``)."""
    if output == "JSON":
        return render_json(tree), JSON_CONTENT_TYPE
    return render_xml(tree), XML_CONTENT_TYPE


# -- paging ---------------------------------------------------------------------------


def total_pages(total: int, limit: int) -> int:
    """Pages needed for ``total`` results (0 when there are none)."""
    return (total + limit - 1) // limit


def page_tree(items: list[Any], page: int, limit: int, total: int) -> dict[str, Any]:
    """The paging envelope around one page of results."""
    return {
        "current_page": page,
        "total_pages": total_pages(total, limit),
        "total_results": total,
        "results": {"result": items} if items else {},
    }


def render_xml_page(page: int, limit: int, total: int, fragments: Sequence[str]) -> bytes:
    """A page whose ``<result>`` elements are already rendered.

    This is the fast path for large lists such as call data: no tree is built.
    """
    head = (
        f"{RESPONSE_DECLARATION}<response><current_page>{page}</current_page>"
        f"<total_pages>{total_pages(total, limit)}</total_pages>"
        f"<total_results>{total}</total_results>"
    )
    body = "<results>" + "".join(fragments) + "</results>" if fragments else "<results/>"
    return (head + body + "</response>").encode("utf-8")


def render_json_page(page: int, limit: int, total: int, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """A page of rows that are already JSON-ready (string values), in one encoder pass."""
    results: Any = {"result": rows[0] if len(rows) == 1 else list(rows)} if rows else {}
    document = {
        "response": {
            "current_page": str(page),
            "total_pages": str(total_pages(total, limit)),
            "total_results": str(total),
            "results": results,
        }
    }
    return json.dumps(document).encode("utf-8")
