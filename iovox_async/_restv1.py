"""Typed methods of the REST v1 platform: ``iovox.rest_v1.calls_insights(...)``.

The v1 endpoints are not part of ``spec/`` (which describes the v3 ``/{Interface}?v=3``
API and generates its coroutines), so their documented parameters are written here
as a :class:`Method`, checked by the same ``build_query`` as v3 arguments, and sent
through :meth:`AsyncIovox.request_v1`. Source: https://iovox.es/api/rest/insights.html
(cut after ``link_id``; /work/shared/api/RestV1_calls.yaml has the notes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ResponseDecodeError
from ._params import build_query
from ._spec import Method, Param

if TYPE_CHECKING:
    from ._client import AsyncIovox

CALLS_INSIGHTS = Method(
    interface="v1",
    name="calls/insights",
    http="GET",
    summary="Call data enriched with insights data (REST v1, path /calls/insights).",
    idempotent=True,
    response_kind="xml",  # not used here: the answer is decoded as JSON or XML by its body
    query=(
        Param("page", "integer", minimum=1, default="1"),
        Param("limit", "integer", minimum=1, maximum=20000, default="10000"),
        Param("order", default="call_start_DESC"),  # a full field name + _ASC or _DESC
        Param("start_date", "datetime", default="1st day of current month 00:00:00"),
        Param("end_date", "datetime", default="current day 23:59:59"),
        # The page marks date_constant mandatory, which contradicts the date defaults.
        Param("date_constant", values=("YESTERDAY",)),
        Param("id", separator=","),  # one or several Call IDs
        Param("node_id"),
        Param("node_name"),
        Param("node_type"),
        Param("link_id"),
    ),
    # Docs: https://iovox.es/api/rest/insights.html
)


class RestV1:
    """The REST v1 platform's documented endpoints, with their parameters checked."""

    def __init__(self, client: AsyncIovox) -> None:
        self._client = client

    async def calls_insights(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        order: str | None = None,
        start_date: dt.datetime | dt.date | str | None = None,
        end_date: dt.datetime | dt.date | str | None = None,
        date_constant: Literal["YESTERDAY"] | None = None,
        id: Sequence[str | int] | str | int | None = None,
        node_id: str | None = None,
        node_name: str | None = None,
        node_type: str | None = None,
        link_id: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> dict[str, Any]:
        """Call records with insights: ``GET /rest/v1/calls/insights``.

        Args:
            page: page number, at least 1 (server default 1).
            limit: results per page, 1 to 20000 (server default 10000, not 20000).
            order: a full field name + ``_ASC``/``_DESC`` (server default call_start_DESC).
            start_date: start, ``YYYY-MM-DD[ HH:MM:SS]`` (default: the month's first day).
            end_date: end, same format (default: today 23:59:59); not before start_date.
            date_constant: ``YESTERDAY`` instead of the dates.
            id: one Call ID or several (joined with commas).
            node_id, node_name, node_type, link_id: filters.
            timeout: seconds for this call instead of the client's default.
            max_retries: retries for this call instead of the client's default (0: none).

        Returns:
            The decoded answer (a JSON object as dicts). Its shape is not documented.

        The public page is cut after ``link_id``; further filters can be sent with
        ``request_v1("calls/insights", params=...)``.
        """
        arguments = {
            "page": page,
            "limit": limit,
            "order": order,
            "start_date": start_date,
            "end_date": end_date,
            "date_constant": date_constant,
            "id": id,
            "node_id": node_id,
            "node_name": node_name,
            "node_type": node_type,
            "link_id": link_id,
        }
        params = dict(build_query(CALLS_INSIGHTS, arguments))
        answer = await self._client.request_v1(
            CALLS_INSIGHTS.name, params=params, timeout=timeout, max_retries=max_retries
        )
        if not isinstance(answer, dict):
            raise ResponseDecodeError("v1.calls/insights answered with a body that is not data")
        return answer
