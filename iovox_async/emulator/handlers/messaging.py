"""Click-to-call (Calling.initiateCall) and SMS (sendSms, getSmsData, getSmsHistory)."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from ..calldata import hms
from ..protocol import Reply
from ..state import Sms, fmt
from .base import Context, fail, handles, select, sort_records, text_of
from .calls import date_window

SMS_FIELDS = {
    "id": "sms_activity_id",
    "date": "date",
    "o": "origin",
    "d": "destination",
    "m": "message",
    "dir": "direction",
    "st": "status",
    "nid": "node_id",
    "lid": "link_id",
}
HISTORY_FIELDS = {"s": "sender", "d": "destination", "t": "time_sent", "m": "message"}
MAX_ORIGIN = 11
MAX_E164_DIGITS = 15


@handles("Calling.initiateCall")
def initiate_call(ctx: Context) -> Reply:
    """Place a click-to-call: it shows up in getCallData with call type API."""
    state = ctx.state
    link = state.links.get(ctx.text("link_id"))
    if link is None:
        raise fail("Link ID does not exist")
    if not link.rule_template:
        raise fail("Link has no Call Flow")
    variables = ctx.body.get("call_variables")
    variables = variables if isinstance(variables, dict) else {}
    destination = text_of(variables.get("call_destination")).split(",", 1)[0]
    delay_text = text_of(variables.get("delay"))
    delay = int(delay_text) if delay_text.isdigit() else 0
    node = state.nodes.get(link.node_id)
    store = state.call_store
    call_id = store.next_id()
    rng = random.Random(f"{ctx.config.seed}:call:{call_id}")
    ring, talk = rng.randint(3, 15), rng.randint(20, 300)
    start = dt.datetime.strptime(ctx.now(), "%Y-%m-%d %H:%M:%S") + dt.timedelta(minutes=delay)
    store.add(
        (
            call_id,
            fmt(start),
            fmt(start + dt.timedelta(seconds=ring + talk)),
            link.voxnumber or "",
            (link.voxnumber or "")[:4] + str(rng.randrange(10**9, 10**10)),
            "",
            link.voxnumber or "",
            destination,
            "",
            hms(ring + talk),
            str(ring + talk),
            hms(talk),
            str(talk),
            "API",
            "ANSWERED",
            "Click to call",
            link.node_id,
            node.node_name if node else "",
            node.node_type if node else "",
            link.link_id,
            link.link_name,
            link.link_type,
            "0",
            "0",
            "OUT",
        )
    )
    return ctx.done()


_ALPHANUMERIC_ORIGIN = re.compile(r"^[A-Za-z0-9 .]+$")


def _valid_origin(origin: str) -> bool:
    """A number (E.164 without ``+`` or ``00``) or up to 11 letters, digits, spaces and dots."""
    if origin.isdigit():
        return not origin.startswith("0") and len(origin) <= MAX_E164_DIGITS
    return len(origin) <= MAX_ORIGIN and bool(_ALPHANUMERIC_ORIGIN.match(origin))


@handles("SMS.sendSms")
def send_sms(ctx: Context) -> Reply:
    """Record an SMS and answer 201 with its ``sms_activity_id`` (a UUID, as the live API)."""
    origin = ctx.text("origin")
    if not _valid_origin(origin):
        raise fail("Origin Invalid")
    state = ctx.state
    link_id = ctx.text("c2c_failover_link_id")
    link = state.links.get(link_id) if link_id else None
    sms = Sms(
        sms_activity_id=state.uuid("sms", ctx.config.seed),
        origin=origin,
        destination=ctx.text("destination"),
        message=ctx.text("message"),
        date=ctx.now(),
        link_id=link.link_id if link else "",
        node_id=link.node_id if link else "",
    )
    state.sms[sms.sms_activity_id] = sms
    return ctx.tree({"sms_activity_id": sms.sms_activity_id})


def _sms_record(sms: Sms) -> dict[str, Any]:
    return {
        "sms_activity_id": sms.sms_activity_id,
        "date": sms.date,
        "origin": sms.origin,
        "destination": sms.destination,
        "message": sms.message,
        "direction": sms.direction,
        "status": sms.status,
        "node_id": sms.node_id,
        "link_id": sms.link_id,
    }


@handles("SMS.getSmsData")
def get_sms_data(ctx: Context) -> Reply:
    """SMS in the date window (current month by default), filtered and paged."""
    start, end = date_window(ctx)
    # Newest first; among equal times the later-sent first (the ids are UUIDs, not counters).
    records = [_sms_record(sms) for sms in ctx.state.sms.values() if start <= sms.date <= end]
    records.reverse()
    for name in ("sms_activity_id", "origin", "destination", "direction", "node_id", "link_id"):
        wanted = ctx.param(name)
        if wanted is not None:
            records = [record for record in records if str(record[name]).upper() == wanted.upper()]
    records.sort(key=lambda record: record["date"], reverse=True)
    names = {**SMS_FIELDS, **{name: name for name in SMS_FIELDS.values()}}
    records = sort_records(records, ctx.order(), names)
    given = ctx.param("req_fields")
    if given:
        wanted_fields = [item.strip() for item in given.split(",")]
        records = [select(record, wanted_fields, names) for record in records]
    return ctx.page(records)


@handles("SMS.getSmsHistory")
def get_sms_history(ctx: Context) -> Reply:
    """Sent SMS: sender, destination, time sent, message."""
    records = [
        {
            "sender": sms.origin,
            "destination": sms.destination,
            "time_sent": sms.date,
            "message": sms.message,
        }
        for sms in ctx.state.sms.values()
        if sms.direction == "OUT"
    ]
    for name in ("sender", "destination"):
        wanted = ctx.param(name)
        if wanted is not None:
            records = [record for record in records if record[name] == wanted]
    records = sort_records(records, ctx.order("s_ASC"), HISTORY_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, HISTORY_FIELDS) for record in records])
