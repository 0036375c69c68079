"""Helpers for the emulator tests: raw requests and body parsing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx


async def call(
    client: httpx.AsyncClient,
    verb: str,
    interface: str,
    method: str | None,
    params: dict[str, Any] | None = None,
    body: bytes | str | None = None,
    *,
    version: str | None = "3",
) -> httpx.Response:
    """One raw API request: ``/{interface}?v=3&method={method}&...``."""
    query: dict[str, Any] = {}
    if version is not None:
        query["v"] = version
    if method is not None:
        query["method"] = method
    query.update(params or {})
    content = body.encode() if isinstance(body, str) else body
    return await client.request(verb, f"/{interface}", params=query, content=content)


def errors(response: httpx.Response) -> list[tuple[int, str]]:
    """The ``(status, message)`` pairs of an error body."""
    root = ET.fromstring(response.content)
    assert root.tag == "errors", response.text
    return [(int(item.get("status", "0")), item.text or "") for item in root.iter("error")]


def messages(response: httpx.Response) -> list[str]:
    """Just the messages of an error body."""
    return [message for _, message in errors(response)]


def results(response: httpx.Response) -> list[ET.Element]:
    """The ``<result>`` elements of a list page."""
    root = ET.fromstring(response.content)
    assert root.tag == "response", response.text
    return root.findall("./results/result")


def text(element: ET.Element, path: str) -> str:
    """Text of a child element ("" when absent or empty)."""
    found = element.find(path)
    return (found.text or "") if found is not None else ""
