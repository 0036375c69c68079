"""Turn a successful response body into what a call returns."""

from __future__ import annotations

import json
from typing import Any

import anyio

from ._constants import OFFLOAD_DECODE_BYTES
from ._convert import PLAIN, Shape
from ._errors import ResponseDecodeError
from ._verbatim import attach_verbatim
from ._xml import decode_document, excerpt, is_xml

_json_decode = json.loads


def _decode_json(body: bytes) -> dict[str, Any]:
    # An empty element is JSON's ``"key": ""``; it decodes to None like XML's ``<key/>``.
    # Rewriting it in the bytes costs a C-speed scan instead of a Python pass per row,
    # and it is exact: inside a JSON string every quote is escaped, so an unescaped
    # ``":""`` (closing quote, colon, two quotes) is always a key and an empty string.
    body = body.replace(b'":""', b'":null').replace(b'": ""', b'": null')
    try:
        data = _json_decode(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResponseDecodeError(f"malformed JSON: {exc}; body starts {excerpt(body)!r}") from None
    if isinstance(data, dict) and set(data) == {"response"}:
        data = data["response"]
        if data == "" or data is None:  # an empty <response/>
            data = {}
    if not isinstance(data, dict):
        raise ResponseDecodeError(f"expected a JSON object, body starts {excerpt(body)!r}")
    return data


def decode_sync(body: bytes, as_json: bool, shape: Shape) -> dict[str, Any]:
    """Parse and finish a body on the calling thread."""
    if as_json:
        return shape.finish(_decode_json(body), True)
    data = decode_document(body, shape.force_list)
    attach_verbatim(data, body, shape.elements)  # call flows keep their rule order
    return shape.finish(data, False)


async def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    shape: Shape = PLAIN,
    expect_binary: bool = False,
) -> dict[str, Any] | bytes:
    """Decode a 2xx body: ``{}`` when empty, ``bytes`` when binary, else a dict.

    Bodies above ``OFFLOAD_DECODE_BYTES`` are parsed and converted in a worker
    thread so a 20,000-row page does not stall the event loop.
    """
    if not body.strip():
        return {}
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    # The API's JSON content type is undocumented: a body that opens like JSON is JSON.
    as_json = not expect_binary and (kind.endswith("/json") or body.lstrip()[:1] in (b"{", b"["))
    if not as_json and (expect_binary or not is_xml(body, content_type)):
        if expect_binary or kind not in ("text/html", "text/plain"):
            return body
        raise ResponseDecodeError(f"expected XML, got {kind}: {excerpt(body)!r}")
    if len(body) > OFFLOAD_DECODE_BYTES:
        return await anyio.to_thread.run_sync(decode_sync, body, as_json, shape)
    return decode_sync(body, as_json, shape)
