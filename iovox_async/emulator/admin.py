"""Admin endpoints under ``/_emulator/`` (JSON, no credentials).

    GET    /_emulator/health     {"status": "ok"}
    GET    /_emulator/stats      requests, effects, statuses and faults per method
    DELETE /_emulator/stats      zero the counters
    GET    /_emulator/faults     the fault settings
    PUT    /_emulator/faults     replace them:
                                 {"default": {...}, "methods": {...}, "script": {...}}
    DELETE /_emulator/faults     no faults
    POST   /_emulator/reset      rebuild seed data, zero counters, replay faults
                                 (body {"state": false} etc. to keep some)
    GET    /_emulator/config     credentials, seed and sizes
    GET    /_emulator/state      how many records of each kind exist (also those no
                                 API method reads: CLIs, portal logins, transcriptions)

The leading underscore keeps these paths apart from every interface name.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .calldata import INDEX
from .faults import FaultSettings
from .protocol import JSON_CONTENT_TYPE, Reply

if TYPE_CHECKING:
    from .app import EmulatorApp

PREFIX = "/_emulator"
HAS_RECORDING = INDEX["has_recording"]
ROUTES = {
    "health": ("GET",),
    "stats": ("GET", "DELETE"),
    "faults": ("GET", "PUT", "DELETE"),
    "reset": ("POST",),
    "config": ("GET",),
    "state": ("GET",),
}


def _json(data: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(data, indent=2).encode("utf-8") + b"\n", JSON_CONTENT_TYPE)


def _load(body: bytes) -> Any:
    if not body.strip():
        return {}
    return json.loads(body.decode("utf-8"))


def config_summary(app: EmulatorApp) -> dict[str, Any]:
    """The settings a user needs to connect and to reproduce a run."""
    config = app.config
    return {
        "username": config.username,
        "secure_key": config.secure_key,
        "seed": config.seed,
        "reference_date": config.reference_date.strftime("%Y-%m-%d %H:%M:%S"),
        "calls": config.calls,
        "days": config.days,
        "nodes": config.nodes,
        "partner_name": config.partner_name,
        "faults": app.faults.settings.to_json(),
    }


def state_summary(app: EmulatorApp) -> dict[str, Any]:
    """Record counts of the current state."""
    state = app.state
    return {
        "now": state.now().strftime("%Y-%m-%d %H:%M:%S"),
        "calls": len(state.call_store),
        "recorded_calls": sum(1 for row in state.call_store.rows if row[HAS_RECORDING] == "1"),
        "nodes": len(state.nodes),
        "links": len(state.links),
        "voxnumbers": len(state.voxnumbers),
        "free_voxnumbers": len(state.free_numbers()),
        "contacts": len(state.contacts),
        "categories": len(state.categories),
        "call_flows": len(state.call_flows),
        "sound_files": len(state.sound_files),
        "sms": len(state.sms),
        "orders": len(state.orders),
        "clis": len(state.clis),
        "time_templates": len(state.time_templates),
        "blocked_numbers": len(state.blocked_numbers),
        "sub_accounts": len(state.sub_accounts),
        "transferred_voxnumbers": len(state.transferred),
        "action_keys": len(state.action_keys),
        "portal_logins": len(state.portal_logins),
        "transcriptions": len(state.transcriptions),
    }


def reply(app: EmulatorApp, verb: str, path: str, body: bytes) -> Reply:
    """Answer one admin request."""
    route = path[len(PREFIX) :].strip("/") or "health"
    verbs = ROUTES.get(route)
    if verbs is None:
        return _json(
            {"error": f"unknown admin endpoint {path!r}", "endpoints": sorted(ROUTES)}, 404
        )
    if verb not in verbs:
        answer = _json({"error": f"{verb} not allowed on {path}; use {', '.join(verbs)}"}, 405)
        answer.headers.append(("allow", ", ".join(verbs)))
        return answer
    try:
        data = _load(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return _json({"error": f"the body must be JSON: {exc}"}, 400)
    if route == "health":
        return _json({"status": "ok"})
    if route == "stats":
        if verb == "DELETE":
            app.stats.reset()
        return _json(app.stats.snapshot())
    if route == "faults":
        if verb == "PUT":
            try:
                app.set_faults(FaultSettings.from_json(data))
            except (TypeError, ValueError) as exc:
                return _json({"error": str(exc)}, 400)
        elif verb == "DELETE":
            app.set_faults(FaultSettings())
        return _json(app.faults.settings.to_json())
    if route == "reset":
        options = data if isinstance(data, dict) else {}
        app.reset(
            state=bool(options.get("state", True)),
            stats=bool(options.get("stats", True)),
            faults=bool(options.get("faults", True)),
        )
        return _json({"status": "reset", "state": state_summary(app)})
    if route == "config":
        return _json(config_summary(app))
    return _json(state_summary(app))
