"""Call flows, also listed as rule templates (Rules) and flows (Flow)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ..protocol import RawXml, Reply
from ..state import CallFlow, State
from ..xmlbody import serialise
from .base import Context, fail, handles, select, sort_records, text_of

TEMPLATE_FIELDS = {
    "tna": "template_name",
    "tno": "template_notes",
    "tt": "template_type",
    "c": "created",
    "a": "advanced",
}
RULE_TAGS = (
    "play",
    "call",
    "messageKeypress",
    "sendSms",
    "voicemail",
    "httpRequest",
    "timeBased",
    "evaluate",
    "sendEmail",  # Email flows: only a peer client's model shows this rule
)
FLOW_TYPES = {"callFlow": "Call", "smsFlow": "SMS", "emailFlow": "Email"}
"""The element of each flow type (the Flow interface takes all three, CallFlow calls)."""
MAX_NAME = 100


def _record(flow: CallFlow) -> dict[str, str]:
    return {
        "template_name": flow.name,
        "template_notes": flow.notes,
        "template_type": flow.template_type,
        "created": flow.created,
        "advanced": flow.advanced,
    }


@handles("CallFlow.getCallFlows", "Rules.getRuleTemplates", "Flow.getFlows")
def get_call_flows(ctx: Context) -> Reply:
    """Call flows filtered by name, type (DEFAULT/CUSTOM/ALL), advanced and flow type."""
    name = ctx.param("template_name")
    kind = (ctx.param("template_type") or "ALL").upper()
    advanced = ctx.param("advanced")
    flow_type = (ctx.param("flow_type") or "").lower()
    records = [
        _record(flow)
        for flow in ctx.state.call_flows.values()
        if (name is None or flow.name == name)
        and (kind == "ALL" or flow.template_type == kind)
        and (advanced is None or flow.advanced == "YES")
        and (not flow_type or flow.flow_type.lower() == flow_type)
    ]
    records = sort_records(records, ctx.order("c_DESC"), TEMPLATE_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, TEMPLATE_FIELDS) for record in records])


@handles("CallFlow.getCallFlow", "Flow.getFlow")
def get_call_flow(ctx: Context) -> Reply:
    """The stored ``<callFlow>`` (``<smsFlow>``, ``<emailFlow>``) definition."""
    name = ctx.param("call_flow") or ctx.param("flow_name") or ""
    flow = _flow_of_type(ctx, name, ctx.param("flow_type") or "Call")
    return ctx.tree({"callFlow": RawXml(flow.xml)})  # the stored element, tag and all


def _flow_of_type(ctx: Context, name: str, flow_type: str) -> CallFlow:
    flow = ctx.state.call_flows.get(name)
    if flow is None or flow.flow_type.lower() != flow_type.lower():
        raise fail(
            "Flow Doesn't exist" if ctx.method.interface == "Flow" else "Call Flow Doesn't exist"
        )
    return flow


def _flow_element(ctx: Context) -> ET.Element:
    """The request's flow element: ``<callFlow>``, or for Flow also SMS and Email flows."""
    tags = FLOW_TYPES if ctx.method.interface == "Flow" else {"callFlow": "Call"}
    root = ctx.root
    if root is None:
        raise fail("Request Empty")
    if root.tag in tags:
        return root
    element = next((child for child in root if child.tag in tags), None)
    if element is None:
        raise fail("Request Empty")
    return element


def _check_rules(element: ET.Element) -> list[str]:
    errors = []
    rules = [child for child in element.iter() if child.tag in RULE_TAGS]
    if not rules:
        errors.append("There are no Rules in this Template")
    for rule in rules:
        if not rule.get("label", "").strip():
            errors.append("Rule Label Empty")
        if not rule.get("id", "").strip():
            errors.append("Rule ID Empty")
        # An attribute given but blank (a "?" placeholder is filled per link later).
        for attribute in ("destinationPhoneNumber", "destinationContactId"):
            if attribute in rule.attrib and not rule.attrib[attribute].strip():
                errors.append(f"{attribute} Empty")
        if (
            rule.tag == "sendSms"
            and "message" in rule.attrib
            and not rule.attrib["message"].strip()
        ):
            errors.append("Message empty")
    return list(dict.fromkeys(errors))


@handles("CallFlow.createCallFlow", "Flow.createFlow")
def create_call_flow(ctx: Context) -> Reply:
    """Store a new call flow (CUSTOM)."""
    element = _flow_element(ctx)
    name = element.get("name", "").strip()
    errors = []
    if not name:
        errors.append("CallFlow Name Empty")
    elif len(name) > MAX_NAME:
        errors.append("CallFlow Name too long")
    elif name in ctx.state.call_flows:
        errors.append("CallFlow Name already exists")
    errors += _check_rules(element)
    if errors:
        raise fail(*errors)
    flow_type = FLOW_TYPES[element.tag]
    ctx.state.call_flows[name] = CallFlow(
        name=name,
        xml=serialise(element),
        notes=element.get("notes", ""),
        created=ctx.now(),
        advanced="YES" if element.find("evaluate") is not None else "",
        flow_type=flow_type,
    )
    return ctx.done()


@handles("CallFlow.updateCallFlow", "Flow.updateFlow")
def update_call_flow(ctx: Context) -> Reply:
    """Replace a flow's definition; ``newName`` renames it (links follow)."""
    element = _flow_element(ctx)
    name = element.get("name", "").strip()
    flow = _flow_of_type(ctx, name, FLOW_TYPES[element.tag])
    new_name = element.attrib.pop("newName", "").strip()
    if new_name and new_name != name and new_name in ctx.state.call_flows:
        raise fail("CallFlow Name already exists")
    errors = _check_rules(element)
    if errors:
        raise fail(*errors)
    if new_name:
        element.set("name", new_name)
        _rename(ctx.state, flow, new_name)
    flow.xml = serialise(element)
    flow.notes = element.get("notes", flow.notes)
    # Links keep their values for the rules that remain (matched by rule id) only.
    kept = {rule.get("id", "") for rule in element.iter() if rule.tag in RULE_TAGS}
    for link in ctx.state.links.values():
        if link.rule_template == flow.name:
            link.rules_variable = [
                value
                for value in link.rules_variable
                if isinstance(value, dict) and value.get("rule_id") in kept
            ]
    return ctx.done()


def _rename(state: State, flow: CallFlow, new_name: str) -> None:
    old = flow.name
    state.call_flows[new_name] = state.call_flows.pop(old)
    flow.name = new_name
    for link in state.links.values():
        if link.rule_template == old:
            link.rule_template = new_name
        if link.sms_template == old:
            link.sms_template = new_name


@handles("CallFlow.deleteCallFlows", "Flow.deleteFlows")
def delete_call_flows(ctx: Context) -> Reply:
    """Delete flows (pipe-separated); attached ones only with ``detach_from_links=TRUE``."""
    flow_word = "Flow" if ctx.method.interface == "Flow" else "Call Flow"
    raw = ctx.param("call_flows") or ctx.param("flows") or ""
    names = [item.strip() for item in raw.split("|")]
    detach = ctx.flag("detach_from_links")
    state = ctx.state
    errors = []
    for position, name in enumerate(names, start=1):
        where = f"{position} of {len(names)}"
        if name not in state.call_flows:
            errors.append(f"{flow_word} {where} does not exist")
        elif not detach and any(
            name in (link.rule_template, link.sms_template) for link in state.links.values()
        ):
            errors.append(f"{flow_word} {where} is attached to a Link")
    if errors:
        raise fail(*errors)
    for name in names:
        state.call_flows.pop(name, None)
        for link in state.links.values():
            if link.rule_template == name:
                link.rule_template = None
            if link.sms_template == name:
                link.sms_template = None
    return ctx.done()


def variable_rules(flow: CallFlow) -> list[dict[str, Any]]:
    """The flow's rules with per-link ``?`` values, as getVariableRulesOfTemplate lists them."""
    root = ET.fromstring(flow.xml)
    rules = []
    for rule in root.iter():
        if rule.tag not in RULE_TAGS:
            continue
        variables = [value for value in rule.attrib.values() if value == "?"]
        sounds = [sound for sound in rule.findall("soundFile") if "?" in sound.attrib.values()]
        if not variables and not sounds:
            continue
        entry: dict[str, Any] = {
            "rule_id": rule.get("id", ""),
            "rule_type": rule.tag,
            "rule_label": rule.get("label", ""),
        }
        if sounds:
            entry["sound_files"] = {"sound_file": ["?|?" for _ in sounds]}
        if rule.tag == "call":
            entry["contact"] = {"contact_id": "?", "phone_number": "?"}
            entry["send_call_alert"] = rule.get("sendCallAlert", "NONE")
            entry["record_call"] = "TRUE" if rule.get("record") == "true" else "FALSE"
        rules.append(entry)
    return rules


def _rule_contact(value: dict[str, Any]) -> dict[str, str]:
    """A link's contact for a rule: nested ``<contact>`` as documented, or flat (seed data)."""
    nested = value.get("contact")
    source = nested if isinstance(nested, dict) else value
    return {
        "contact_id": text_of(source.get("contact_id")) or "?",
        "phone_number": text_of(source.get("phone_number")) or "?",
    }


@handles("Rules.getVariableRulesOfTemplate")
def get_variable_rules(ctx: Context) -> Reply:
    """The template's variable rules (with a link's current contact when ``link_id`` is given).

    With ``link_id`` alone (as a live call of the Ruby peer did) the link's own template is used.
    """
    link_id = ctx.param("link_id")
    link = None if link_id is None else ctx.state.links.get(link_id)
    if link_id is not None and link is None:
        raise fail("Link ID Doesn't exist")
    name = ctx.param("template_name") or (link.rule_template if link is not None else None)
    flow = ctx.state.call_flows.get(name or "")
    if flow is None:
        raise fail("Template Name does not exist")
    rules = variable_rules(flow)
    if link is not None:
        for rule in rules:
            for value in link.rules_variable:
                if (
                    isinstance(value, dict)
                    and value.get("rule_id") == rule["rule_id"]
                    and "contact" in rule
                ):
                    rule["contact"] = _rule_contact(value)
    return ctx.tree({"rules": {"rule": rules} if rules else None})
