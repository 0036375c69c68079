"""Hand-written behaviour per method; importing this package registers every handler.

Every method of the catalog has a handler here; there is no fallback, and the app
refuses to start on a catalog with a method no handler answers.
"""

from __future__ import annotations

from . import (
    accounts,
    blocked,
    calls,
    clis,
    contacts,
    flows,
    jsapi,
    links,
    messaging,
    nodes,
    purchase,
    soundfiles,
    timetemplates,
    voxnumbers,
)
from .base import HANDLERS, Context, Handler, missing_handlers

__all__ = [
    "HANDLERS",
    "Context",
    "Handler",
    "accounts",
    "blocked",
    "calls",
    "clis",
    "contacts",
    "flows",
    "jsapi",
    "links",
    "messaging",
    "missing_handlers",
    "nodes",
    "purchase",
    "soundfiles",
    "timetemplates",
    "voxnumbers",
]
