"""A Starlette app (FastAPI works the same way) with one AsyncIovox for its whole life.

Run it with ``uvicorn web_app:app``; the client takes its credentials from
``IOVOX_USERNAME`` / ``IOVOX_SECURE_KEY`` (and ``IOVOX_BASE_URL`` for the emulator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from iovox_async import APIError, AsyncIovox, ValidationError


class State(TypedDict):
    iovox: AsyncIovox


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[State]:
    # One client, opened at start-up and closed at shut-down: every request shares its
    # connection pool and its concurrency limit.
    async with AsyncIovox() as iovox:
        yield {"iovox": iovox}


async def recent_calls(request: Request) -> JSONResponse:
    """``GET /calls?sdt=2026-11-01&limit=10``: the newest calls since ``sdt``."""
    iovox: AsyncIovox = request.state.iovox
    try:
        page = await iovox.calls.get_call_data(
            sdt=request.query_params.get("sdt", "2026-11-01"),
            limit=int(request.query_params.get("limit", "10")),
            req_fields=["id", "cs", "vn", "call_res"],
        )
    except (ValueError, ValidationError) as error:  # bad input: nothing was sent
        return JSONResponse({"error": str(error)}, status_code=400)
    except APIError as error:
        return JSONResponse({"error": str(error)}, status_code=502)
    # Rows are typed (call_start is a datetime): give JSON the text form.
    calls = [jsonable_encoder(call) for call in page["results"]["result"]]
    return JSONResponse({"calls": calls})


def jsonable_encoder(row: Mapping[str, object]) -> dict[str, object]:
    return {key: v.isoformat() if isinstance(v, datetime) else v for key, v in row.items()}


app = Starlette(routes=[Route("/calls", recent_calls)], lifespan=lifespan)
