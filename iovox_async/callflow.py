"""A typed builder for call flows: rules in order, checked before anything is sent.

::

    from iovox_async.callflow import CallFlow, call, on_result, play, sound

    flow = CallFlow(
        "Sales line",
        notes="office hours",
        rules=[
            play("welcome", "Welcome", sound("welcome_message")),
            call(
                "agent", "Call the agent",
                destination_contact_id="?", record=True, timeout=20,
                on=[on_result("BUSY|NO_ANSWER", play("sorry", "Sorry", sound("busy")))],
            ),
        ],
    )
    await iovox.call_flow.create_call_flow(call_flow=flow.to_xml())
    read = await iovox.call_flow.get_call_flow(call_flow="Sales line")
    again = CallFlow.from_xml(read["callFlow_xml"])   # same rules, same order

Rules run in document order, so a flow is an ordered tree of :class:`Node` s, never
a dict grouped by element name. The vocabulary (rule names, their attributes and
parts, the allowed values) is read from the spec (``spec/CallFlow.yaml``, the
``callFlow`` element of updateCallFlow): an unknown rule, attribute, part or value
raises :class:`~iovox_async.ValidationError` when the flow is built, before any
request. Rules nest inside ``callEvent``, ``keyEvent``, ``timeEvent``,
``matchEvent`` and ``failure``. A value of ``?`` (per-link variable) or ``$_name``
(internal variable) is accepted for any attribute.

Attributes are keyword arguments in snake_case (``destination_phone_number`` for
``destinationPhoneNumber``, ``from_`` for ``from``); ``True``/``False`` become
``true``/``false`` and numbers text, as in the API's flow XML.
"""

from __future__ import annotations

import re
import xml.parsers.expat as expat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape

from ._errors import ValidationError
from ._spec import ElementSpec
from ._xml import RawXML

AttributeValue = str | int | bool
RULES = (
    "play",
    "call",
    "messageKeypress",
    "sendSms",
    "voicemail",
    "httpRequest",
    "timeBased",
    "evaluate",
)
RULE_CONTAINERS = frozenset({"callEvent", "keyEvent", "timeEvent", "matchEvent", "failure"})
"""Parts whose content, after their own parts, is a sequence of rules (nesting)."""
_ROOT = "callFlow"
_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _is_variable(value: str) -> bool:
    return value == "?" or value.startswith("$_")


@cache
def _root_spec() -> ElementSpec:
    from ._catalog import METHODS

    payload = METHODS["CallFlow"]["updateCallFlow"].payload or ()
    return next(element for element in payload if element.name == _ROOT)


@cache
def _rule_specs() -> dict[str, ElementSpec]:
    return {child.name: child for child in _root_spec().children if child.name in RULES}


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return "from_" if text == "from" else text


def _text(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    raise ValidationError(
        f"call flow: an attribute value must be text, a number or a bool, got {value!r}"
    )


@dataclass(frozen=True, slots=True)
class Node:
    """One element of a flow: a rule, or a part of one (sound file, event, failure, param).

    ``attributes`` are ``(name, value)`` pairs in document order, ``children`` the
    parts and nested rules in document order. Equality compares both orders.
    """

    tag: str
    attributes: tuple[tuple[str, str], ...] = ()
    children: tuple[Node, ...] = ()

    def get(self, name: str) -> str | None:
        """The value of attribute ``name`` (API spelling, e.g. ``destinationContactId``)."""
        return next((value for key, value in self.attributes if key == name), None)

    @property
    def rules(self) -> tuple[Node, ...]:
        """The rules nested directly in this node (for events and failures)."""
        return tuple(child for child in self.children if child.tag in RULES)

    def to_xml(self) -> str:
        """This element as compact XML text (attributes and parts in order)."""
        out: list[str] = []
        _write(self, out)
        return "".join(out)


def _write(node: Node, out: list[str]) -> None:
    attributes = "".join(f' {name}="{escape(value, _ESCAPES)}"' for name, value in node.attributes)
    if not node.children:
        out.append(f"<{node.tag}{attributes}/>")
        return
    out.append(f"<{node.tag}{attributes}>")
    for child in node.children:
        _write(child, out)
    out.append(f"</{node.tag}>")


# -- checking against the spec's vocabulary ---------------------------------------------


def _check(node: Node, spec: ElementSpec, path: str) -> None:
    known = {child.name[1:]: child for child in spec.children if child.name.startswith("@")}
    seen: set[str] = set()
    for name, value in node.attributes:
        attribute = known.get(name)
        if attribute is None:
            names = ", ".join(sorted(known)) or "none"
            raise ValidationError(f"call flow: {path} has no attribute {name!r} (known: {names})")
        if name in seen:
            raise ValidationError(f"call flow: {path} sets {name!r} twice")
        seen.add(name)
        if attribute.values and value not in attribute.values and not _is_variable(value):
            choices = ", ".join(attribute.values)
            raise ValidationError(
                f"call flow: {path}@{name} must be one of {choices}; got {value!r}"
            )
    parts = {child.name: child for child in spec.children if not child.name.startswith("@")}
    counts: dict[str, int] = {}
    for child in node.children:
        child_spec = parts.get(child.tag)
        if child_spec is None and spec.name in RULE_CONTAINERS | {_ROOT}:
            child_spec = _rule_specs().get(child.tag)
        if child_spec is None:
            options = sorted(parts) + (list(RULES) if spec.name in RULE_CONTAINERS else [])
            raise ValidationError(
                f"call flow: <{child.tag}> is not allowed in {path}"
                f" (allowed: {', '.join(options) or 'nothing'})"
            )
        counts[child.tag] = counts.get(child.tag, 0) + 1
        if counts[child.tag] > 1 and not child_spec.repeated and child.tag not in RULES:
            raise ValidationError(f"call flow: <{child.tag}> may occur only once in {path}")
        _check(child, child_spec, f"{path}/{child.tag}")


def _attributes(
    tag: str, given: Mapping[str, AttributeValue | None]
) -> tuple[tuple[str, str], ...]:
    """Snake_case keyword arguments as the attributes of ``tag`` (a rule), checked by name."""
    spec = _rule_specs()[tag]
    names = {
        _snake(child.name[1:]): child.name[1:]
        for child in spec.children
        if child.name.startswith("@") and child.name not in ("@id", "@label")  # positional
    }
    pairs = []
    for key, value in given.items():
        if value is None:
            continue
        name = names.get(key)
        if name is None:
            allowed = ", ".join(sorted(names))
            raise ValidationError(f"call flow: {tag} takes no attribute {key!r} (known: {allowed})")
        pairs.append((name, _text(value)))
    return tuple(pairs)


# -- the flow ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallFlow:
    """A call flow: its name, optional notes, and its rules in execution order.

    ``new_name`` renames the flow in updateCallFlow (leave it unset for createCallFlow).
    Built flows are checked at once against the documented vocabulary.
    """

    name: str
    rules: Sequence[Node] = field(default_factory=tuple)
    notes: str | None = None
    new_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("call flow: name must be non-empty text")
        object.__setattr__(self, "rules", tuple(self.rules))
        if not self.rules:
            raise ValidationError(f"call flow {self.name!r}: give at least one rule")
        _check(self.node(), _root_spec(), f"<{_ROOT}>")

    def node(self) -> Node:
        """The ``<callFlow>`` element as a :class:`Node`."""
        attributes = [("name", self.name)]
        if self.new_name is not None:
            attributes.append(("newName", self.new_name))
        if self.notes is not None:
            attributes.append(("notes", self.notes))
        return Node(_ROOT, tuple(attributes), tuple(self.rules))

    def to_xml(self) -> RawXML:
        """The ``<callFlow>`` element, for ``call_flow=`` of create/update_call_flow (or Flow)."""
        return RawXML(self.node().to_xml())

    @classmethod
    def from_xml(cls, xml: str | bytes) -> CallFlow:
        """Parse a ``<callFlow>`` element (e.g. getCallFlow's ``callFlow_xml``), in order.

        A whole ``<response>`` or ``<request>`` document holding one ``<callFlow>`` is
        accepted too. Anything outside the documented vocabulary raises ValidationError;
        a flow read from the API can always be sent back unchanged as its RawXML.
        """
        root = _parse(xml)
        if root.tag != _ROOT:
            flows = [child for child in root.children if child.tag == _ROOT]
            if len(flows) != 1:
                raise ValidationError(f"call flow: expected one <{_ROOT}>, found {len(flows)}")
            root = flows[0]
        names = {name for name, _ in root.attributes}
        if not names <= {"name", "notes", "newName"}:
            _check(root, _root_spec(), f"<{_ROOT}>")  # names the unknown attribute
        return cls(
            name=root.get("name") or "",
            rules=root.children,
            notes=root.get("notes"),
            new_name=root.get("newName"),
        )


class _Refused(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Refused


def _parse(xml: str | bytes) -> Node:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if isinstance(xml, str):
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data)  # the text is already decoded
    parser = expat.ParserCreate("utf-8")
    parser.ordered_attributes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    stack: list[tuple[str, list[str], list[Node]]] = [("", [], [])]

    def start(tag: str, attributes: list[str]) -> None:
        stack.append((tag, attributes, []))

    def end(tag: str) -> None:
        name, flat, children = stack.pop()
        pairs = tuple(zip(flat[::2], flat[1::2], strict=True))
        stack[-1][2].append(Node(name, pairs, tuple(children)))

    def text(data: str) -> None:
        if data.strip():
            raise ValidationError(
                f"call flow: unexpected text {data.strip()[:40]!r} in <{stack[-1][0]}>"
            )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except _Refused:
        raise ValidationError("call flow: document type declarations are refused") from None
    except expat.ExpatError as exc:
        raise ValidationError(f"call flow: malformed XML: {exc}") from None
    return stack[0][2][0]


# -- typed constructors for the documented rules -----------------------------------------


def sound(label: str, group: str | None = None) -> Node:
    """One sound file (``<soundFile soundLabel soundGroup>``); ``"?"`` for a per-link one."""
    pairs = [("soundLabel", label)] + ([("soundGroup", group)] if group is not None else [])
    return Node("soundFile", tuple(pairs))


def _rule(
    tag: str,
    id: str,
    label: str,
    attributes: Mapping[str, AttributeValue | None],
    parts: Iterable[Node],
) -> Node:
    head = (("id", _text(id)), ("label", _text(label)))
    return Node(tag, head + _attributes(tag, attributes), tuple(parts))


def _events(events: Sequence[Node], failure: Node | None) -> list[Node]:
    parts = list(events) + ([failure] if failure is not None else [])
    return [Node("eventHandlers", (), tuple(parts))] if parts else []


def play(id: str, label: str, *sounds: Node) -> Node:
    """Play sound files in sequence."""
    return _rule("play", id, label, {}, sounds)


def call(
    id: str,
    label: str,
    *,
    caller_message: Sequence[Node] = (),
    called_message: Sequence[Node] = (),
    on: Sequence[Node] = (),
    failure: Node | None = None,
    **attributes: AttributeValue | None,
) -> Node:
    """Forward the call (``destination_phone_number``, ``destination_contact_id``, ...).

    ``caller_message``/``called_message`` are sound files (hold message, whisper); ``on``
    holds :func:`on_result` events and ``failure`` (:func:`failure`) what runs otherwise.
    """
    parts = []
    if caller_message:
        parts.append(Node("callerMessage", (), tuple(caller_message)))
    if called_message:
        parts.append(Node("calledMessage", (), tuple(called_message)))
    return _rule("call", id, label, attributes, parts + _events(on, failure))


def message_keypress(
    id: str,
    label: str,
    *,
    prompt: Node | None = None,
    on: Sequence[Node] = (),
    failure: Node | None = None,
    **attributes: AttributeValue | None,
) -> Node:
    """An IVR menu: ``prompt`` (a :func:`play` rule), :func:`on_keys` events, a failure."""
    parts = [prompt] if prompt is not None else []
    return _rule("messageKeypress", id, label, attributes, parts + _events(on, failure))


def send_sms(id: str, label: str, **attributes: AttributeValue | None) -> Node:
    """Send an SMS during the call (``from_``, ``message``, ``destination_*``, alerts)."""
    return _rule("sendSms", id, label, attributes, ())


def voicemail(
    id: str,
    label: str,
    *,
    message: Sequence[Node] = (),
    completed: Sequence[Node] = (),
    **attributes: AttributeValue | None,
) -> Node:
    """Record a message and email it; ``message`` is the greeting, ``completed`` the close."""
    parts = [Node("voicemailMessage", (), tuple(message))] if message else []
    if completed:
        parts.append(Node("completedMessage", (), tuple(completed)))
    return _rule("voicemail", id, label, attributes, parts)


def http_request(
    id: str,
    label: str,
    *,
    url: str,
    request_method: str = "POST",
    params: Mapping[str, str] | Sequence[tuple[str, str]] = (),
) -> Node:
    """Send an HTTP request during the flow; ``params`` values may be ``$_`` variables."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    body = Node("params", (), tuple(Node("param", (("name", k), ("value", v))) for k, v in items))
    return _rule("httpRequest", id, label, {"url": url, "request_method": request_method}, [body])


def time_based(
    id: str, label: str, *, on: Sequence[Node] = (), failure: Node | None = None
) -> Node:
    """Branch on the current time: :func:`on_time` events, then a failure."""
    return _rule("timeBased", id, label, {}, _events(on, failure))


def evaluate(id: str, label: str, *, left_expr_value: str, on: Sequence[Node] = ()) -> Node:
    """Compare ``left_expr_value`` to each :func:`on_match` event's right value."""
    return _rule("evaluate", id, label, {"left_expr_value": left_expr_value}, _events(on, None))


def on_result(result: str | Sequence[str], *rules: Node) -> Node:
    """A call event: run ``rules`` when the call result matches (e.g. ``"BUSY|NO_ANSWER"``)."""
    text = result if isinstance(result, str) else "|".join(result)
    return Node("callEvent", (("action", "onMatchResult"), ("result", text)), rules)


def on_keys(sequence: str, *rules: Node) -> Node:
    """A keypress event of :func:`message_keypress`."""
    return Node(
        "keyEvent", (("action", "onMatchKeypressSequence"), ("keypressSequence", sequence)), rules
    )


def on_time(time_template_label: str, *rules: Node) -> Node:
    """A time event of :func:`time_based` (a stored Time Template's label)."""
    return Node(
        "timeEvent", (("action", "onMatchTime"), ("timeTemplateLabel", time_template_label)), rules
    )


def on_match(right_expr_value: str, operator: str, *rules: Node, action: str | None = None) -> Node:
    """A match event of :func:`evaluate`."""
    pairs = [("action", action)] if action is not None else []
    pairs += [("rightExprValue", right_expr_value), ("operator", operator)]
    return Node("matchEvent", tuple(pairs), rules)


def failure(
    *rules: Node,
    attempts: int | None = None,
    messages: Sequence[Node] = (),
    id: str | None = None,
    label: str | None = None,
) -> Node:
    """What runs when no event matches: ``messages`` first, then ``rules``.

    For a keypress menu, ``messages`` are :func:`keypress_failure_message` s; for a
    time-based rule, sound files (its ``failureMessage``).
    """
    pairs = [
        (k, _text(v))
        for k, v in (("id", id), ("label", label), ("attempts", attempts))
        if v is not None
    ]
    parts: list[Node] = []
    if messages and all(message.tag == "keypressFailureMessage" for message in messages):
        parts.append(Node("keypressFailureMessages", (), tuple(messages)))
    elif messages:
        parts.append(Node("failureMessage", (), tuple(messages)))
    return Node("failure", tuple(pairs), tuple(parts) + rules)


def keypress_failure_message(behaviour: str, *sounds: Node) -> Node:
    """Sound files played ``onNoKeypress`` or ``onUnmatchedKeypress``."""
    return Node("keypressFailureMessage", (("behaviour", behaviour),), sounds)


__all__ = [
    "RULES",
    "AttributeValue",
    "CallFlow",
    "Node",
    "call",
    "evaluate",
    "failure",
    "http_request",
    "keypress_failure_message",
    "message_keypress",
    "on_keys",
    "on_match",
    "on_result",
    "on_time",
    "play",
    "send_sms",
    "sound",
    "time_based",
    "voicemail",
]
