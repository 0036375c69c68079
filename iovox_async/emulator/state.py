"""The emulator's account: every record the handlers read and change.

Plain dataclasses in dicts keyed by their API identifier. Handlers run one at a
time on the event loop, so no locking is needed inside a request. The clock is
logical: it starts at the reference date and moves one second per record created,
so the same requests always produce the same timestamps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .calldata import CallStore

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def fmt(moment: dt.datetime) -> str:
    """The API's datetime text."""
    return moment.strftime(DATETIME_FORMAT)


@dataclass
class Region:
    """A purchasable region: where VoxNumbers of one type can be bought."""

    country_code: str
    country_name: str
    area_code: str
    state_name: str
    city_name: str
    number_type: str
    """NATIONAL, GEOGRAPHIC or TOLLFREE."""
    cost: str
    stock: int
    digits: int
    """Length of a full number in this region."""
    require_purchase_info: str = "0"
    postcodes: tuple[str, ...] = ()
    next_suffix: int = 1

    def allocate(self) -> str:
        """A fresh full number of this region (stock is the caller's business)."""
        prefix = self.country_code + self.area_code
        width = max(4, self.digits - len(prefix))
        number = prefix + str(self.next_suffix).zfill(width)
        self.next_suffix += 1
        return number


@dataclass
class VoxNumber:
    """A tracking number owned by the account."""

    number: str
    country_code: str
    area_code: str
    number_type: str
    """LOCAL or NATIONAL, as getVoxnumbers reports it."""
    country_name: str
    city_name: str
    purchase_date: str
    link_id: str | None = None
    suspended: bool = False
    """Set by setCallStatus OFF; only numbers attached to a link can be switched."""
    order_reference: str | None = None


@dataclass
class Node:
    """A tracked thing (a shop, a property); owns links."""

    node_id: str
    node_name: str
    node_type: str
    node_date: str
    link_ids: list[str] = field(default_factory=list)


@dataclass
class Link:
    """One way of tracking a node (a channel), with at most one VoxNumber."""

    link_id: str
    node_id: str
    link_name: str
    link_type: str
    link_date: str
    click_to_call: str = "1"
    voxnumber: str | None = None
    rule_template: str | None = None
    sms_template: str | None = None
    category_ids: list[str] = field(default_factory=list)
    rules_variable: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Contact:
    """A contact (a call destination); fields as createContacts names them."""

    contact_id: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Category:
    """A category: a configuration (no parent) or a value under a parent."""

    category_id: str
    label: str
    value: str
    parent_id: str | None = None
    type: str = "Tree"
    colour: str = ""


@dataclass
class CallFlow:
    """A call flow, also listed as a rule template (Rules) and a flow (Flow)."""

    name: str
    xml: str
    """The ``<callFlow>`` element as stored."""
    notes: str = ""
    template_type: str = "CUSTOM"
    created: str = ""
    advanced: str = ""
    flow_type: str = "Call"


@dataclass
class SoundFile:
    """An uploaded sound file."""

    sound_id: str
    label: str
    group: str
    data: bytes
    notes: str = ""
    created: str = ""
    updated: str = ""


@dataclass
class Sms:
    """An SMS sent through sendSms (or seeded)."""

    sms_activity_id: str
    origin: str
    destination: str
    message: str
    date: str
    direction: str = "OUT"
    status: str = "DELIVERED"
    link_id: str = ""
    node_id: str = ""


@dataclass
class Order:
    """A VoxNumber purchase order."""

    reference: str
    status: str
    created: str
    items: list[dict[str, str]]
    numbers: list[str]
    dynamic_quantity: bool = False
    callback_url: str = ""


@dataclass
class Cli:
    """A CLI (caller id) imported by createClis; ``link_ids`` are the links presenting it."""

    number: str
    link_ids: list[str] = field(default_factory=list)


@dataclass
class TimeTemplate:
    """A named set of time frames, used by time-based call-flow rules and blocking rules."""

    label: str
    frames: list[dict[str, object]]
    """``date_from``, ``date_to``, ``recurrence``, ``time_from``, ``time_to``, ``days``."""
    notes: str = ""
    created: str = ""


@dataclass
class BlockingRule:
    """An exception to a blocked number's default, for some links and a time template."""

    blocking_type: str
    link_ids: list[str] = field(default_factory=list)
    time_template: str = ""
    """A time template label; empty means at any time."""


@dataclass
class BlockedNumber:
    """A block/allow rule, identified by (number, in_or_out, operator)."""

    number: str
    in_or_out: str
    operator: str
    default: str
    rules: list[BlockingRule] = field(default_factory=list)
    notes: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """The identifying triple."""
        return self.number, self.in_or_out, self.operator


@dataclass
class Subscription:
    """An account's subscription (updateSubscriptionDetails); inactive once cancelled."""

    active: bool = True
    recurring_credit: int = 500
    voxnumber_quantity: int = 0
    country: str = "UNITED KINGDOM"
    city: str = "LONDON"
    state: str = ""
    billing_length: int = 1
    billing_length_unit: str = "M"


@dataclass
class SubAccount:
    """An account created beneath the API account by createSubAccount."""

    account_name: str
    parent_account_name: str
    details: dict[str, object] = field(default_factory=dict)
    subscription: Subscription = field(default_factory=lambda: Subscription(active=False))
    check_credit: bool = False
    credit: int = 0


@dataclass
class State:
    """The whole account."""

    reference: dt.datetime
    regions: list[Region] = field(default_factory=list)
    voxnumbers: dict[str, VoxNumber] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    call_flows: dict[str, CallFlow] = field(default_factory=dict)
    sound_files: dict[tuple[str, str], SoundFile] = field(default_factory=dict)
    sms: dict[str, Sms] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    partners: set[str] = field(default_factory=set)
    partner_name: str = ""
    transferred: dict[str, str] = field(default_factory=dict)
    """Numbers given away by transferVoxnumbers, with the partner that received them."""
    credit: int = 5000
    check_credit: bool = False
    account_name: str = ""
    """The API account's own name (parent of its sub-accounts)."""
    subscription: Subscription = field(default_factory=Subscription)
    sub_accounts: dict[str, SubAccount] = field(default_factory=dict)
    clis: dict[str, Cli] = field(default_factory=dict)
    time_templates: dict[str, TimeTemplate] = field(default_factory=dict)
    blocked_numbers: dict[tuple[str, str, str], BlockedNumber] = field(default_factory=dict)
    action_keys: list[str] = field(default_factory=list)
    """JavaScript-API action keys, oldest first."""
    portal_logins: list[str] = field(default_factory=list)
    """Tokens handed out by userPortalLogin, oldest first."""
    transcriptions: list[str] = field(default_factory=list)
    """Call ids whose transcription transcribeCallRecording accepted, oldest first."""
    ticks: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    calls: CallStore | None = None

    def token(self, kind: str, seed: object, length: int = 40) -> str:
        """A fresh, reproducible hex token (action keys, login tokens)."""
        count = self.next_id(kind)
        digest = hashlib.sha1(f"{seed}:{kind}:{count}".encode()).hexdigest()
        return digest[:length]

    def uuid(self, kind: str, seed: object) -> str:
        """A fresh, reproducible version-4 UUID string (the API's SMS activity ids)."""
        count = self.next_id(kind)
        bits = int.from_bytes(
            hashlib.sha256(f"{seed}:{kind}:{count}".encode()).digest()[:16], "big"
        )
        return str(uuid.UUID(int=bits, version=4))

    def now(self) -> dt.datetime:
        """The logical clock: the reference date plus one second per record created."""
        return self.reference + dt.timedelta(seconds=self.ticks)

    def tick(self) -> str:
        """Advance the clock one second and return the new time as API text."""
        self.ticks += 1
        return fmt(self.now())

    def next_id(self, kind: str, start: int = 1) -> int:
        """A fresh number for ``kind`` (orders, sound files, SMS...)."""
        value = self.counters.get(kind, start - 1) + 1
        self.counters[kind] = value
        return value

    @property
    def call_store(self) -> CallStore:
        """The call records (always set once seeded)."""
        assert self.calls is not None, "state not seeded"
        return self.calls

    def call_status(self, number: VoxNumber) -> str:
        """getVoxnumbers' call status: ACTIVE, NO RULES or OFF."""
        if number.suspended:
            return "OFF"
        link = self.links.get(number.link_id) if number.link_id else None
        return "ACTIVE" if link is not None and link.rule_template else "NO RULES"

    def detach_number(self, number: str) -> None:
        """Return a number to the account's pool (its link keeps no number)."""
        vox = self.voxnumbers.get(number)
        if vox is None:
            return
        if vox.link_id and vox.link_id in self.links:
            self.links[vox.link_id].voxnumber = None
        vox.link_id = None
        vox.suspended = False

    def attach_number(self, link: Link, number: str) -> None:
        """Attach ``number`` to ``link``, returning any previous number to the pool."""
        if link.voxnumber and link.voxnumber != number:
            self.detach_number(link.voxnumber)
        vox = self.voxnumbers[number]
        if vox.link_id and vox.link_id != link.link_id:
            self.detach_number(number)
        vox.link_id = link.link_id
        link.voxnumber = number

    def delete_link(self, link_id: str) -> None:
        """Remove a link; its number goes back to the pool."""
        link = self.links.pop(link_id, None)
        if link is None:
            return
        if link.voxnumber:
            vox = self.voxnumbers.get(link.voxnumber)
            if vox is not None:
                vox.link_id = None
                vox.suspended = False
        node = self.nodes.get(link.node_id)
        if node is not None and link_id in node.link_ids:
            node.link_ids.remove(link_id)

    def free_numbers(self) -> list[VoxNumber]:
        """Numbers owned by the account and attached to no link, in number order."""
        return sorted(
            (vox for vox in self.voxnumbers.values() if vox.link_id is None),
            key=lambda vox: vox.number,
        )

    def category_path(self, category_id: str) -> list[Category]:
        """The category and its ancestors, root first."""
        path: list[Category] = []
        current = self.categories.get(category_id)
        seen: set[str] = set()
        while current is not None and current.category_id not in seen:
            seen.add(current.category_id)
            path.append(current)
            current = self.categories.get(current.parent_id) if current.parent_id else None
        return list(reversed(path))
