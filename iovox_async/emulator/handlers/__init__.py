"""Hand-written behaviour per method; importing this package registers every handler."""

from __future__ import annotations

from . import calls, contacts, flows, links, messaging, nodes, purchase, soundfiles, voxnumbers
from .base import HANDLERS, Context, Handler, default_handler

__all__ = [
    "HANDLERS",
    "Context",
    "Handler",
    "calls",
    "contacts",
    "default_handler",
    "flows",
    "links",
    "messaging",
    "nodes",
    "purchase",
    "soundfiles",
    "voxnumbers",
]
