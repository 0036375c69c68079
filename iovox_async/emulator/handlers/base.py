"""What every handler gets (a :class:`Context`) and the helpers they share.

A handler is a plain function ``(Context) -> Reply`` registered for one or more
``"Interface.method"`` keys; it runs after the generic validation has passed and
raises :class:`ApiError` for method-specific problems. Every catalog method needs
one (:func:`missing_handlers` names those that lack one); there is no fallback.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..._spec import Method
from ..config import EmulatorConfig
from ..protocol import ApiError, Reply, Tree, page_tree, render
from ..state import State
from ..validation import req_field_values

Handler = Callable[["Context"], Reply]
HANDLERS: dict[str, Handler] = {}
DEFAULT_LIMIT = 20_000


def handles(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``"Interface.method"`` keys."""

    def register(function: Handler) -> Handler:
        for key in keys:
            HANDLERS[key] = function
        return function

    return register


class Context:
    """One validated request, as a handler sees it."""

    def __init__(
        self,
        *,
        state: State,
        config: EmulatorConfig,
        method: Method,
        query: Mapping[str, Sequence[str]],
        body: Mapping[str, Any],
        root: ET.Element | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.state = state
        self.headers: Mapping[str, str] = headers or {}
        """Request headers, names in lower case."""
        self.config = config
        self.method = method
        self.query = query
        self.body = body
        self.root = root
        output = self.param("output")
        self.output = output.upper() if output else "XML"

    # -- query ------------------------------------------------------------------------

    def param(self, name: str) -> str | None:
        """A query parameter, stripped; ``None`` when absent or blank."""
        values = self.query.get(name)
        if not values:
            return None
        value = values[0].strip()
        return value or None

    def params(self, name: str) -> list[str]:
        """Every value of a repeated parameter (``name`` and ``name[]``)."""
        values = [*self.query.get(name, ()), *self.query.get(f"{name}[]", ())]
        return [value.strip() for value in values if value.strip()]

    def flag(self, name: str) -> bool:
        """A ``TRUE``/``FALSE`` parameter (default FALSE)."""
        return (self.param(name) or "").upper() == "TRUE"

    def page_limit(self) -> tuple[int, int]:
        """The requested page (default 1) and limit (default: the method's maximum)."""
        page = int(self.param("page") or 1)
        param = self.method.param("limit")
        default = DEFAULT_LIMIT
        if param is not None:
            default = (
                int(param.default)
                if param.default and param.default.isdigit()
                else (param.maximum or DEFAULT_LIMIT)
            )
        limit = int(self.param("limit") or default)
        return max(page, 1), max(limit, 1)

    def req_fields(self) -> list[str]:
        """Requested abbreviations, else the documented default, else every allowed one."""
        given = self.param("req_fields")
        if given:
            return [item.strip() for item in given.split(",") if item.strip()]
        param = self.method.param("req_fields")
        if param is not None and param.default:
            return list(dict.fromkeys(item.strip() for item in param.default.split(",")))
        return list(req_field_values(self.method))

    def order(self, default: str | None = None) -> tuple[str, bool] | None:
        """``(abbreviation, descending)`` from ``order`` or ``default``."""
        text = self.param("order") or default
        if not text or "_" not in text:
            return None
        field, _, direction = text.rpartition("_")
        return field, direction.upper() == "DESC"

    # -- body -------------------------------------------------------------------------

    def items(self, *path: str) -> list[Any]:
        """The element(s) at ``path`` under ``<request>``, always as a list."""
        current: Any = self.body
        for name in path:
            if isinstance(current, list):
                current = current[0] if current else None
            if not isinstance(current, Mapping):
                return []
            current = current.get(name)
        if current is None or current == "":
            return []
        return list(current) if isinstance(current, list) else [current]

    def text(self, name: str, source: Mapping[str, Any] | None = None) -> str:
        """A text child of ``source`` (default the request), stripped, ``""`` when absent."""
        return text_of((self.body if source is None else source).get(name))

    # -- replies ----------------------------------------------------------------------

    @property
    def success_status(self) -> int:
        """201 for POST, 204 for PUT and DELETE, 200 for GET."""
        return {"GET": 200, "POST": 201}.get(self.method.http, 204)

    def tree(self, tree: Tree, status: int | None = None) -> Reply:
        """A ``<response>`` body (or JSON) with the verb's success status."""
        status = status or {"GET": 200, "POST": 201}.get(self.method.http, 200)
        body, content_type = render(tree, self.output)
        return Reply(status, body, content_type)

    def page(self, items: Sequence[Any]) -> Reply:
        """One page of ``items`` inside the paging envelope."""
        page, limit = self.page_limit()
        chosen = list(items[(page - 1) * limit : page * limit])
        return self.tree(page_tree(chosen, page, limit, len(items)))

    def done(self) -> Reply:
        """The empty success of a write: 201 for POST, 204 for PUT and DELETE."""
        return Reply(self.success_status)

    def binary(self, data: bytes, content_type: str = "audio/mpeg") -> Reply:
        """Raw bytes (recordings, sound files)."""
        return Reply(200, data, content_type)

    def error(self, template: str, *values: object) -> str:
        """This method's documented error ``template`` with its placeholders filled."""
        return documented(self.method, template, *values)

    def now(self) -> str:
        """Advance the logical clock and return the time as API text."""
        return self.state.tick()


def text_of(value: Any) -> str:
    """The text of a decoded element (``#text`` beside attributes), stripped."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return str(value.get("#text", "")).strip()
    if isinstance(value, list) and value:
        return text_of(value[0])
    return ""


def children(container: Any, name: str) -> list[Any]:
    """The ``name`` children of a decoded element, always as a list (``[]`` when none)."""
    found = container.get(name) if isinstance(container, Mapping) else None
    return list(found) if isinstance(found, list) else [found] if found else []


def fail(*messages: str) -> ApiError:
    """A 400 error with these messages (``raise fail("...")``)."""
    return ApiError(*messages)


_PLACEHOLDER = re.compile(r"\b[xyzXYZ]\b")


def documented(method: Method, template: str, *values: object) -> str:
    """A documented error of ``method``, its ``x``/``y``/``z`` placeholders filled in order.

    Raises ``LookupError`` when the method's spec does not list ``template``, so a
    handler cannot drift from the documented text.
    """
    if not any(error.message == template for error in method.errors):
        raise LookupError(f"{method.interface}.{method.name} documents no error {template!r}")
    filled = iter(str(value) for value in values)
    return _PLACEHOLDER.sub(lambda match: next(filled, match.group(0)), template)


def list_param(ctx: Context, name: str) -> list[str]:
    """The items of a comma-separated query parameter, blanks kept (they are errors)."""
    value = ctx.param(name) or ""
    return [item.strip() for item in value.split(",")]


def select(
    record: Mapping[str, Any], abbreviations: Iterable[str], names: Mapping[str, str]
) -> dict[str, Any]:
    """The record's fields named by the abbreviations, in the mapping's order."""
    wanted = {names[abbreviation] for abbreviation in abbreviations if abbreviation in names}
    return {name: record.get(name, "") for name in names.values() if name in wanted}


def sort_records(
    records: list[dict[str, Any]],
    order: tuple[str, bool] | None,
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Sort by the field an order abbreviation names (numbers numerically); stable."""
    if order is None or order[0] not in names:
        return records
    field, descending = names[order[0]], order[1]

    def key(record: Mapping[str, Any]) -> tuple[int, float, str]:
        value = str(record.get(field, ""))
        return (0, float(value), "") if value.isdigit() else (1, 0.0, value.lower())

    return sorted(records, key=key, reverse=descending)


def missing_handlers(catalog: Mapping[str, Mapping[str, Method]]) -> list[str]:
    """``"Interface.method"`` keys of the catalog that no handler answers."""
    return sorted(
        f"{interface}.{name}"
        for interface, methods in catalog.items()
        for name in methods
        if f"{interface}.{name}" not in HANDLERS
    )
