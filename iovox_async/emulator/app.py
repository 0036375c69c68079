"""The emulator as a plain ASGI application: routing, protocol errors, faults, dispatch.

Request path ``/{Interface}?v=3&method={name}&...`` with ``username`` and
``secureKey`` headers, exactly as the API takes them. The checks run in the API's
order of concern: credentials, interface, method, then everything generic the
catalog can tell (version, verb, query, body) collected into one error body, then
the method's own handler. Admin endpoints live under ``/_emulator/``, a path no
interface name can take, and need no credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from .._spec import Method
from . import admin
from .config import EmulatorConfig
from .faults import (
    FAULT_MESSAGES,
    NO_FAULT,
    PROXY_502_PAGE,
    ConnectionDropped,
    FaultController,
    FaultSettings,
    Plan,
)
from .handlers import HANDLERS, Context, missing_handlers, restv1
from .protocol import ApiError, Reply, error_reply
from .seed import build_state
from .state import State
from .stats import Stats
from .validation import validate_payload, validate_query
from .xmlbody import BodyError, parse_body, to_data

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_VERSION = "3"
WRITE_VERBS = frozenset({"POST", "PUT", "DELETE"})


def _load_catalog() -> Mapping[str, Mapping[str, Method]]:
    from .._catalog import METHODS

    return METHODS


class EmulatorApp:
    """A local IOVOX API: call it as an ASGI app, or use :meth:`handle` directly.

    ``state``, ``stats`` and ``faults`` are the admin handles; :meth:`reset`
    rebuilds the seed data.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        catalog: Mapping[str, Mapping[str, Method]] | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.catalog = catalog if catalog is not None else _load_catalog()
        missing = missing_handlers(self.catalog)
        if missing:
            raise ValueError(f"no emulator handler for {', '.join(missing)}")
        self.state: State = build_state(self.config)
        self.stats = Stats()
        self.faults = FaultController(self.config.seed, self.config.faults)
        self._sessions = 0

    # -- admin ------------------------------------------------------------------------

    def reset(self, *, state: bool = True, stats: bool = True, faults: bool = True) -> None:
        """Rebuild the seed data, zero the counters and replay faults from the start."""
        if state:
            self.state = build_state(self.config)
        if stats:
            self.stats.reset()
        if faults:
            self.faults.reset()

    def set_faults(self, settings: FaultSettings) -> None:
        """Replace the fault settings (counters keep going; use reset to replay)."""
        self.faults.set_settings(settings)

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope.get("path") or "/"
        verb: str = scope.get("method", "GET").upper()
        query_string = scope.get("query_string", b"").decode("utf-8", errors="replace")
        if path == admin.PREFIX or path.startswith(admin.PREFIX + "/"):
            await _send_reply(send, admin.reply(self, verb, path, body), [])
            return
        query = parse_qs(query_string, keep_blank_values=True)
        headers = {
            name.decode("latin-1").lower(): value.decode("utf-8", "replace")
            for name, value in scope.get("headers", [])
        }
        if path.startswith(restv1.PREFIX + "/"):
            self.stats.request("v1." + path[len(restv1.PREFIX) :].strip("/"))
            reply = self._rest_v1(verb, path, query, headers)
            self.stats.status(reply.status)
            await _send_reply(send, reply, [self._cookie()])
            return
        interface = path.strip("/")
        method_name = (query.get("method") or [""])[0].strip()
        key = f"{interface}.{method_name}"
        known = self.catalog.get(interface, {}).get(method_name) is not None
        self.stats.request(key)
        plan = self.faults.plan(key) if known else NO_FAULT
        if plan.latency > 0:
            await asyncio.sleep(plan.latency)
        cookie = self._cookie()
        if plan.before is not None:
            self.stats.fault(key, plan.before)
            reply = _fault_reply(plan)
            self.stats.status(reply.status)
            await _send_reply(send, reply, [cookie])
            return
        reply = self.handle(verb, interface, query, headers, body)
        self.stats.status(reply.status)
        if known and verb in WRITE_VERBS and 200 <= reply.status < 300:
            self.stats.effect(key)
        await self._finish(send, reply, cookie, plan, key)

    async def _finish(
        self, send: Send, reply: Reply, cookie: tuple[str, str], plan: Plan, key: str
    ) -> None:
        if plan.after == "drop":
            self.stats.fault(key, "drop")
            raise ConnectionDropped("the emulator dropped the connection after the method ran")
        if plan.after == "truncate" and reply.body:
            self.stats.fault(key, "truncate")
            await _send_reply(send, reply, [cookie], keep=plan.keep)
            return
        await _send_reply(send, reply, [cookie])

    def _cookie(self) -> tuple[str, str]:
        # The API sets a session cookie on every response; a client should keep none.
        self._sessions += 1
        token = hashlib.sha1(f"{self.config.seed}:{self._sessions}".encode()).hexdigest()[:26]
        return "set-cookie", f"PHPSESSID={token}; path=/; HttpOnly"

    # -- the API ----------------------------------------------------------------------

    def handle(
        self,
        verb: str,
        interface: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        """Answer one API request (no faults): the whole protocol, then the handler."""
        try:
            method = self._route(interface, query, headers)
            context = self._validate(method, verb, query, body, headers)
            return HANDLERS[f"{method.interface}.{method.name}"](context)
        except ApiError as error:
            return error_reply(error.items)

    def _rest_v1(
        self, verb: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
    ) -> Reply:
        """A REST v1 endpoint (``/rest/v1/...``): same credentials, its own handlers."""
        try:
            self._authenticate(headers)
            return restv1.answer(self.state, verb, path, query)
        except ApiError as error:
            return error_reply(error.items)

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        username = headers.get("username", "").strip()
        secure_key = headers.get("securekey", "").strip()
        missing = []
        if not username:
            missing.append("Username Empty")
        if not secure_key:
            missing.append("Secure Key Empty")
        if missing:
            raise ApiError(*missing)
        if (username, secure_key) != (self.config.username, self.config.secure_key):
            raise ApiError("HTTP 401: Unauthorized", status=401)

    def _route(
        self, interface: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
    ) -> Method:
        self._authenticate(headers)
        if not interface:
            raise ApiError("Interface Name Empty")
        methods = self.catalog.get(interface)
        if methods is None:
            raise ApiError(f"Interface does not exist: {interface}")
        name = (query.get("method") or [""])[0].strip()
        if not name:
            raise ApiError("Method Empty")
        method = methods.get(name)
        if method is None:
            raise ApiError(f"Method Invalid: {name} in interface {interface}")
        return method

    def _validate(
        self,
        method: Method,
        verb: str,
        query: Mapping[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> Context:
        errors: list[str] = []
        version = (query.get("v") or [""])[0].strip()
        if not version:
            errors.append("API Version Empty")
        elif version != API_VERSION:
            # The method pages all say "API Version Invalid"; the general table's
            # "Invalid API Version" is the odd one out (spec/README.md).
            errors.append("API Version Invalid")
        if verb != method.http:
            errors.append(f"Request Method must be {method.http}. {verb} attempted")
        errors += validate_query(method, query)
        data: Any = {}
        root = None
        if (
            verb == method.http
            and verb in ("POST", "PUT")
            and (method.payload is not None or body.strip())
        ):
            try:
                root = parse_body(body)
            except BodyError as problem:
                errors.append(self._body_message(method, problem))
            else:
                data = to_data(root, method.payload or ())
                if not isinstance(data, dict):
                    data = {}
                if method.payload is not None:
                    errors += validate_payload(method, data)
        if errors:
            raise ApiError(*dict.fromkeys(errors))
        return Context(
            state=self.state,
            config=self.config,
            method=method,
            query=query,
            body=data,
            root=root,
            headers=headers,
        )

    @staticmethod
    def _body_message(method: Method, problem: BodyError) -> str:
        if problem.kind == "empty":
            return "XML Empty"
        documented = {error.message for error in method.errors}
        if "XML Parse Error" in documented and not any(
            m.startswith("XML parse error.") for m in documented
        ):
            return "XML Parse Error"
        return f"XML parse error. {problem.detail} at line {problem.line}, column {problem.column}"


def _fault_reply(plan: Plan) -> Reply:
    kind = plan.before or "500"
    if kind == "502-html":
        return Reply(502, PROXY_502_PAGE, "text/html")
    status, message = FAULT_MESSAGES[kind]
    headers = [("retry-after", str(plan.retry_after))] if status == 429 else []
    return error_reply([(status, message)], headers)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send_reply(
    send: Send, reply: Reply, extra: list[tuple[str, str]], keep: float | None = None
) -> None:
    """Send a reply; with ``keep``, send that share of the body and drop the connection."""
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers + extra
    ]
    if reply.content_type:
        headers.append((b"content-type", reply.content_type.encode("latin-1")))
    if reply.status != 204:
        headers.append((b"content-length", str(len(reply.body)).encode("ascii")))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if keep is not None:
        cut = max(1, min(len(reply.body) - 1, int(len(reply.body) * keep)))
        await send({"type": "http.response.body", "body": reply.body[:cut], "more_body": True})
        raise ConnectionDropped("the emulator cut the response body short")
    await send({"type": "http.response.body", "body": b"" if reply.status == 204 else reply.body})


def create_app(config: EmulatorConfig | None = None, **options: Any) -> EmulatorApp:
    """An emulator app; ``options`` override fields of ``config`` (e.g. ``calls=500``)."""
    base = config or EmulatorConfig()
    return EmulatorApp(base.with_changes(**options) if options else base)
