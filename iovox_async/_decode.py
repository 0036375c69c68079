"""Turn a successful response body into what a call returns."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

import anyio
from anyio.lowlevel import RunVar

from ._constants import OFFLOAD_DECODE_BYTES
from ._convert import PLAIN, Shape
from ._errors import ResponseDecodeError
from ._fastjson import fast_json
from ._steps import Steps, run_steps_on_loop
from ._verbatim import attach_verbatim
from ._xml import decode_document, excerpt, is_xml, media_type, opening

_json_decode = json.loads

_DECODERS: RunVar[anyio.CapacityLimiter] = RunVar("iovox_async_decoders")
"""One big page decodes at a time, per event loop (in a worker thread or in steps on
the loop): a decode holds the GIL, so more at once add no speed, only a longer wait
for the loop."""


def _decode_limiter() -> anyio.CapacityLimiter:
    try:
        return _DECODERS.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _DECODERS.set(limiter)
        return limiter


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


def _decode_json(body: bytes, native: bool = False) -> dict[str, Any]:
    """The generic path: a JSON answer's content as ``json.loads`` reads it; ``native``:
    any JSON object, as the server typed it (REST v1), otherwise only ``{"response": ...}``."""
    try:
        data = _json_decode(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResponseDecodeError(f"malformed JSON: {exc}; body starts {excerpt(body)!r}") from None
    if isinstance(data, dict) and set(data) == {"response"}:
        data = data["response"]
        if data == "" or data is None:  # an empty <response/>
            data = {}
    elif isinstance(data, dict) and ("errors" in data or "error" in data):
        raise ErrorDocument("errors")
    elif not (native and isinstance(data, dict)):
        data = None
    if not isinstance(data, dict):
        raise ResponseDecodeError(
            f'expected an API answer (a JSON {{"response": ...}} object), body starts'
            f" {excerpt(body)!r}"
        )
    return data


def decode_json(body: bytes, shape: Shape, *, fast: bool = True) -> dict[str, Any]:
    """A JSON body, finished: through the fast path when it vouches for the result
    (:mod:`._fastjson`), else ``json.loads`` and :meth:`Shape.finish`."""
    try:
        if shape.native:
            return shape.finish(_decode_json(body, native=True), True)
        path = fast_json(shape) if fast else None
        if path is not None:
            data = path.decode(body)
            if data is not None:
                return data
        return shape.finish(_decode_json(body), True)
    except RecursionError:  # json.loads and the finishing walk recurse per level
        raise ResponseDecodeError(
            f"JSON nested too deeply to decode; body starts {excerpt(body)!r}"
        ) from None


def _fast_json_steps(body: bytes, shape: Shape) -> Steps[dict[str, Any] | None]:
    """A JSON body through the fast path, in steps; ``None`` when there is none or it
    declines (the generic path is then the caller's)."""
    path = fast_json(shape) if not shape.native else None
    if path is None:
        return None
    return (yield from path.steps(body))


def decode_sync(body: bytes, as_json: bool, shape: Shape) -> dict[str, Any]:
    """Parse and finish a body on the calling thread."""
    if as_json:
        return decode_json(body, shape)
    ((root, content),) = decode_document(body, shape.force_list, strip_root=False).items()
    data = _api_answer(root, content)
    if shape.has_xml:
        attach_verbatim(data, body, shape.elements)  # call flows keep their rule order
    return shape.finish(data, False)


async def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    shape: Shape = PLAIN,
    expect_binary: bool = False,
    expect_document: bool = False,
) -> dict[str, Any] | bytes:
    """Decode a 2xx body: ``{}`` when empty, ``bytes`` when binary, else a dict.

    A document must be an API answer (a ``<response>`` root or ``{"response": ...}``);
    an error document raises :class:`ErrorDocument`, on a binary method too. With
    ``expect_document`` (a method documented to answer XML) a body in neither form
    is an error, never ``bytes``. Bodies above ``OFFLOAD_DECODE_BYTES`` never stall the
    event loop for the whole decode: JSON through the fast path is decoded here in
    steps (the body, then a chunk of rows at a time), with a turn of the loop after
    each; XML, and JSON the fast path declines, in a worker thread.
    """
    first = opening(body)
    if not first:
        return {}
    if expect_binary:
        if _is_error_document(body):
            raise ErrorDocument("errors")
        return body
    kind = media_type(content_type)
    # The API's JSON content type is undocumented: a body that opens like JSON is JSON.
    as_json = kind.endswith("/json") or first in (b"{", b"[")
    if not as_json and not is_xml(first, kind):
        if not expect_document and kind not in ("text/html", "text/plain"):
            return body
        got = kind or "an unlabelled body"
        raise ResponseDecodeError(f"expected an XML or JSON document, got {got}: {excerpt(body)!r}")
    if len(body) <= OFFLOAD_DECODE_BYTES:
        return decode_sync(body, as_json, shape)
    if as_json:
        # On this thread, a step at a time with a turn of the loop in between: a worker
        # thread would hold the GIL and, with it, the loop for most of a page. One page
        # at a time: the loop runs every ready task's step before it comes back to the
        # others, so pages decoded side by side would add their steps up.
        async with _decode_limiter():
            data = await run_steps_on_loop(_fast_json_steps(body, shape))
        if data is not None:
            return data
    # XML, and JSON the fast path declined: in a worker thread, which lets the loop take
    # the GIL every switch interval (XML's conversion is one long step on the loop).
    decode = (
        partial(decode_json, body, shape, fast=False)
        if as_json
        else partial(decode_sync, body, False, shape)
    )
    return await anyio.to_thread.run_sync(decode, limiter=_decode_limiter())
