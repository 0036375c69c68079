"""Turn a successful response body into what a call returns."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio

from ._constants import OFFLOAD_DECODE_BYTES
from ._errors import ResponseDecodeError
from ._spec import ElementSpec
from ._xml import decode_document, excerpt, fill_missing_lists, is_xml


class ErrorDocument(Exception):
    """A 2xx body that is an API error document; the transport raises ``APIError``."""


_ERROR_HEAD = re.compile(rb'^\s*(<\?xml[^>]*\?>\s*)?(<errors?[\s/>]|\{\s*"(response|errors?)")')


def _is_error_document(body: bytes) -> bool:
    """Whether a binary method's body is really an error (or any API) document."""
    return _ERROR_HEAD.match(body[:256]) is not None


def _api_answer(root: str, content: Any) -> dict[str, Any]:
    """The content of an API answer; anything but a ``<response>`` root is refused."""
    if root in ("errors", "error"):
        raise ErrorDocument(root)
    if root != "response":
        raise ResponseDecodeError(
            f"expected an API answer (a <response> document), got a <{root}> document"
        )
    return content if isinstance(content, dict) else {}


def normalise_json(value: Any, names: frozenset[str]) -> Any:
    """Give a JSON body the shape its XML form decodes to, at any depth.

    Every key in ``names`` holds a list, and an empty string becomes ``None`` (an
    empty element such as ``<detail/>`` decodes to ``None``), so ``output=JSON`` and
    XML answers compare equal.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            if item == "":
                item = value[key] = None
            if key in names and not isinstance(item, list):
                item = [] if item is None else [item]
                value[key] = item
            if isinstance(item, (dict, list)):
                normalise_json(item, names)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item == "":
                value[index] = None
            elif isinstance(item, (dict, list)):
                normalise_json(item, names)
    return value


def _decode_json(body: bytes, force_list: frozenset[str]) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResponseDecodeError(f"malformed JSON: {exc}; body starts {excerpt(body)!r}") from None
    if isinstance(data, dict) and set(data) == {"response"}:
        data = data["response"] or {}
    elif isinstance(data, dict) and ("errors" in data or "error" in data):
        raise ErrorDocument("errors")
    else:
        data = None
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f'expected an API answer (a JSON {{"response": ...}} object), body starts'
            f" {excerpt(body)!r}"
        )
    return normalise_json(data, force_list)  # type: ignore[no-any-return]


def _decode_sync(
    body: bytes, as_json: bool, force_list: frozenset[str], elements: tuple[ElementSpec, ...]
) -> dict[str, Any]:
    if as_json:
        data = _decode_json(body, force_list)
    else:
        ((root, content),) = decode_document(body, force_list, strip_root=False).items()
        data = _api_answer(root, content)
    return fill_missing_lists(data, elements)


async def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    force_list: frozenset[str],
    elements: tuple[ElementSpec, ...] = (),
    expect_binary: bool = False,
    expect_document: bool = False,
) -> dict[str, Any] | bytes:
    """Decode a 2xx body: ``{}`` when empty, ``bytes`` when binary, else a dict.

    A document must be an API answer (a ``<response>`` root or ``{"response": ...}``);
    an error document raises :class:`ErrorDocument`, on a binary method too. With
    ``expect_document`` (a method documented to answer XML) a body in neither form
    is an error, never ``bytes``. Bodies above ``OFFLOAD_DECODE_BYTES`` are parsed in
    a worker thread so a 20,000-row page does not stall the event loop.
    """
    if not body.strip():
        return {}
    if expect_binary:
        if _is_error_document(body):
            raise ErrorDocument("errors")
        return body
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    # The API's JSON content type is undocumented: a body that opens like JSON is JSON.
    as_json = not expect_binary and (kind.endswith("/json") or body.lstrip()[:1] in (b"{", b"["))
    if not as_json and not is_xml(body, content_type):
        if not expect_document and kind not in ("text/html", "text/plain"):
            return body
        got = kind or "an unlabelled body"
        raise ResponseDecodeError(f"expected an XML or JSON document, got {got}: {excerpt(body)!r}")
    if len(body) > OFFLOAD_DECODE_BYTES:
        return await anyio.to_thread.run_sync(_decode_sync, body, as_json, force_list, elements)
    return _decode_sync(body, as_json, force_list, elements)
