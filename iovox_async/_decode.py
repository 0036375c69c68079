"""Turn a successful response body into what a call returns."""

from __future__ import annotations

import json
from typing import Any

import anyio

from ._constants import OFFLOAD_DECODE_BYTES
from ._convert import PLAIN, Shape
from ._errors import ResponseDecodeError
from ._fastjson import fast_json
from ._verbatim import attach_verbatim
from ._xml import decode_document, excerpt, is_xml

_json_decode = json.loads


def _empty_as_null(body: bytes) -> bytes:
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
        return body.replace(b'": ""', b'": null')
    return body.replace(b'":""', b'":null')


def _decode_json(body: bytes) -> dict[str, Any]:
    """The generic path: any JSON object, as ``json.loads`` reads it."""
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


def decode_json(body: bytes, shape: Shape, *, fast: bool = True) -> dict[str, Any]:
    """A JSON body, finished: through the fast path when it vouches for the result
    (:mod:`._fastjson`), else ``json.loads`` and :meth:`Shape.finish`."""
    body = _empty_as_null(body)
    path = fast_json(shape) if fast else None
    if path is not None:
        data = path.decode(body)
        if data is not None:
            return data
    return shape.finish(_decode_json(body), True)


def decode_sync(body: bytes, as_json: bool, shape: Shape) -> dict[str, Any]:
    """Parse and finish a body on the calling thread."""
    if as_json:
        return decode_json(body, shape)
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
