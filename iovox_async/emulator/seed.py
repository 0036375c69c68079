"""Deterministic seed data: the same config always builds the same account.

Regions to buy numbers from, contacts, a category tree, call flows, sound files,
nodes with links and attached numbers, spare numbers, SMS, and ``config.calls``
call records spread over the ``config.days`` days before the reference date (a
share of them recorded).
"""

from __future__ import annotations

import datetime as dt
import random

from .audio import sound_bytes
from .calldata import CallStore, Row, hms
from .config import EmulatorConfig
from .state import (
    BlockedNumber,
    BlockingRule,
    CallFlow,
    Category,
    Cli,
    Contact,
    Link,
    Node,
    Region,
    Sms,
    SoundFile,
    State,
    SubAccount,
    Subscription,
    TimeTemplate,
    VoxNumber,
    fmt,
)

# country code, country, area code, state, city, type, cost, stock, digits, info, postcodes
_REGIONS: tuple[tuple[str, str, str, str, str, str, str, int, int, str, tuple[str, ...]], ...] = (
    (
        "44",
        "UNITED KINGDOM",
        "20",
        "ENGLAND",
        "LONDON",
        "GEOGRAPHIC",
        "1.50",
        500,
        12,
        "0",
        ("EC1A", "SW1A", "W1", "N1", "E1"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "161",
        "ENGLAND",
        "MANCHESTER",
        "GEOGRAPHIC",
        "1.50",
        300,
        12,
        "0",
        ("M1", "M2", "M3"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "121",
        "ENGLAND",
        "BIRMINGHAM",
        "GEOGRAPHIC",
        "1.50",
        300,
        12,
        "0",
        ("B1", "B2"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "151",
        "ENGLAND",
        "LIVERPOOL",
        "GEOGRAPHIC",
        "1.50",
        200,
        12,
        "0",
        ("L1", "L2"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "113",
        "ENGLAND",
        "LEEDS",
        "GEOGRAPHIC",
        "1.50",
        200,
        12,
        "0",
        ("LS1", "LS2"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "131",
        "SCOTLAND",
        "EDINBURGH",
        "GEOGRAPHIC",
        "1.50",
        150,
        12,
        "0",
        ("EH1", "EH2"),
    ),
    (
        "44",
        "UNITED KINGDOM",
        "1865",
        "ENGLAND",
        "OXFORD",
        "GEOGRAPHIC",
        "1.50",
        3,
        12,
        "0",
        ("OX1", "OX2"),
    ),
    ("44", "UNITED KINGDOM", "330", "", "", "NATIONAL", "2.00", 200, 12, "0", ()),
    ("44", "UNITED KINGDOM", "800", "", "", "TOLLFREE", "5.00", 100, 12, "0", ()),
    (
        "33",
        "FRANCE",
        "1",
        "ILE-DE-FRANCE",
        "PARIS",
        "GEOGRAPHIC",
        "2.50",
        200,
        11,
        "1",
        ("75001", "75002", "75008"),
    ),
    (
        "33",
        "FRANCE",
        "4",
        "PROVENCE-ALPES-COTE D'AZUR",
        "MARSEILLE",
        "GEOGRAPHIC",
        "2.50",
        100,
        11,
        "1",
        ("13001", "13002"),
    ),
    ("34", "SPAIN", "91", "MADRID", "MADRID", "GEOGRAPHIC", "2.00", 150, 11, "0", ("28001",)),
    ("34", "SPAIN", "93", "CATALUNYA", "BARCELONA", "GEOGRAPHIC", "2.00", 150, 11, "0", ("08001",)),
    ("49", "GERMANY", "30", "BERLIN", "BERLIN", "GEOGRAPHIC", "2.00", 150, 12, "0", ("10115",)),
    (
        "1",
        "UNITED STATES",
        "212",
        "NEW YORK",
        "NEW YORK",
        "GEOGRAPHIC",
        "1.00",
        300,
        11,
        "0",
        ("10001", "10002"),
    ),
    (
        "1",
        "UNITED STATES",
        "415",
        "CALIFORNIA",
        "SAN FRANCISCO",
        "GEOGRAPHIC",
        "1.00",
        200,
        11,
        "0",
        ("94102",),
    ),
)

_FIRST = (
    "Alice",
    "Bruno",
    "Chloe",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jack",
    "Karim",
    "Lena",
    "Marta",
    "Noah",
    "Olga",
    "Pablo",
)
_LAST = (
    "Smith",
    "Martin",
    "Garcia",
    "Dubois",
    "Jones",
    "Brown",
    "Lopez",
    "Muller",
    "Taylor",
    "Wilson",
    "Moreau",
    "Rossi",
)
_BUSINESS = (
    "Westbourne Apartments",
    "Tyler's Hairdressers",
    "Harbour Dental",
    "Green & Co Plumbing",
    "Northside Motors",
    "City Lofts",
    "Riverside Bistro",
    "Oak Lane Estates",
    "Bright Smiles",
    "Summit Fitness",
    "Old Mill Bakery",
    "Parkview Lettings",
)
_NODE_TYPES = ("Agency", "Shop", "Property", "Restaurant", "Clinic")
_CHANNELS = ("Website", "Newspaper", "Radio", "Google Ads", "Flyer", "Billboard")
_MESSAGES = (
    "Your appointment is confirmed",
    "Thanks for calling, here is our address",
    "Reply STOP to opt out",
    "Your viewing is booked for tomorrow",
)

CATEGORY_TREE: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("100", "Region", (("101", "North"), ("102", "South"), ("103", "East"), ("104", "West"))),
    (
        "200",
        "Channel",
        (
            ("201", "Website"),
            ("202", "Newspaper"),
            ("203", "Radio"),
            ("204", "Google Ads"),
            ("205", "Flyer"),
            ("206", "Billboard"),
        ),
    ),
    ("300", "Campaign", (("301", "Spring"), ("302", "Autumn"))),
)

FLOWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Call Forward",
        "DEFAULT",
        "Forwards every call to one number",
        '<callFlow name="Call Forward" notes="Forwards every call to one number">'
        '<call id="call" label="Forward to destination" record="true" destinationPhoneNumber="?"'
        ' sendCallAlert="NONE"/></callFlow>',
    ),
    (
        "Voicemail Only",
        "DEFAULT",
        "Takes a message",
        '<callFlow name="Voicemail Only" notes="Takes a message">'
        '<voicemail id="vm" label="Leave a message" from="noreply@iovox.com" subject="Voicemail"'
        ' silence="5" maxDuration="300" templateName="emailtemplate02" destinationEmailAddress="?"'
        ' destinationContactId="?"><voicemailMessage><soundFile soundLabel="welcome"'
        ' soundGroup="default"/></voicemailMessage></voicemail></callFlow>',
    ),
    (
        "Call Sales",
        "CUSTOM",
        "Welcome message then the sales team",
        '<callFlow name="Call Sales" notes="Welcome message then the sales team">'
        '<play id="welcome" label="Welcome"><soundFile soundLabel="?" soundGroup="?"/></play>'
        '<call id="call" label="Call to Sales" record="true" destinationContactId="?"'
        ' sendCallAlert="NONE"/></callFlow>',
    ),
    (
        "Support Line",
        "CUSTOM",
        "Press 1 for support",
        '<callFlow name="Support Line" notes="Press 1 for support">'
        '<messageKeypress id="menu" label="Support menu" captureKeypress="true" timeout="10">'
        '<play id="prompt" label="Prompt"><soundFile soundLabel="?" soundGroup="?"/></play>'
        '<eventHandlers><keyEvent action="onMatchKeypressSequence" keypressSequence="1">'
        '<call id="support" label="Call to Support" destinationPhoneNumber="?"/></keyEvent>'
        "</eventHandlers></messageKeypress></callFlow>",
    ),
)
RULE_LABELS = {
    "Call Forward": "Forward to destination",
    "Voicemail Only": "Leave a message",
    "Call Sales": "Call to Sales",
    "Support Line": "Call to Support",
}
_RESULTS = ("ANSWERED", "NO_ANSWER", "BUSY", "CANCELLED", "REJECTED")
_RESULT_WEIGHTS = (0.55, 0.2, 0.1, 0.1, 0.05)


def _phone(rng: random.Random, prefix: str = "447") -> str:
    return prefix + str(rng.randrange(10**8, 10**9))


def build_state(config: EmulatorConfig) -> State:
    """The seeded account for ``config``."""
    rng = random.Random(config.seed)
    reference = config.reference_date
    state = State(reference=reference, partner_name=config.partner_name)
    state.partners = {config.partner_name, *config.other_partners}
    _seed_regions(state)
    _seed_contacts(state, rng, config.contacts)
    _seed_categories(state)
    _seed_flows(state)
    _seed_sound_files(state, config.seed)
    links = _seed_nodes(state, rng, config)
    _seed_spare_numbers(state, rng, config)
    state.calls = CallStore(_seed_calls(state, rng, config, links))
    _seed_sms(state, rng, config, links)
    _seed_account(state, config)
    _seed_rules(state, links)
    return state


SUB_ACCOUNT = "emulator-sub-account"
"""A seeded sub-account with an active subscription."""
IDLE_SUB_ACCOUNT = "emulator-sub-account-idle"
"""A seeded sub-account without a subscription."""
CLIS = ("441632960001", "441632960002", "441632960003")
"""Seeded CLIs; the first is presented by the first link (so it is in use)."""
WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI"]
ALL_DAYS = [*WEEKDAYS, "SAT", "SUN"]


def _seed_account(state: State, config: EmulatorConfig) -> None:
    state.account_name = config.username
    state.action_keys.append(state.token("action_key", config.seed))
    for name, active in ((SUB_ACCOUNT, True), (IDLE_SUB_ACCOUNT, False)):
        state.sub_accounts[name] = SubAccount(
            account_name=name,
            parent_account_name=state.account_name,
            subscription=Subscription(active=active),
        )


def _seed_rules(state: State, links: list[Link]) -> None:
    """CLIs, time templates and blocked numbers (one blocking rule uses a template)."""
    for position, number in enumerate(CLIS):
        in_use = [links[0].link_id] if position == 0 and links else []
        state.clis[number] = Cli(number, in_use)
    created = fmt(state.reference - dt.timedelta(days=100))
    state.time_templates["Working hours"] = TimeTemplate(
        "Working hours",
        [_frame("", "", "NONE", "09:00", "18:00", WEEKDAYS)],
        "Monday to Friday, 9am to 6pm",
        created,
    )
    state.time_templates["Christmas"] = TimeTemplate(
        "Christmas", [_frame("2012-12-25", "2012-12-25", "YEARLY", "", "", ALL_DAYS)], "", created
    )
    exceptions = [BlockingRule("ALLOW", [links[0].link_id], "Christmas")] if links else []
    for blocked in (
        BlockedNumber("447429651520", "IN", "EQUALS", "BLOCK", notes="nuisance caller"),
        BlockedNumber("447429651522", "IN", "EQUALS", "BLOCK", exceptions),
        BlockedNumber("33", "OUT", "STARTSWITH", "BLOCK", notes="no calls to France"),
    ):
        state.blocked_numbers[blocked.key] = blocked


def _frame(
    date_from: str, date_to: str, recurrence: str, time_from: str, time_to: str, days: list[str]
) -> dict[str, object]:
    return {
        "date_from": date_from,
        "date_to": date_to,
        "recurrence": recurrence,
        "time_from": time_from,
        "time_to": time_to,
        "days": list(days),
    }


def _seed_regions(state: State) -> None:
    for cc, country, area, region_state, city, kind, cost, stock, digits, info, codes in _REGIONS:
        state.regions.append(
            Region(cc, country, area, region_state, city, kind, cost, stock, digits, info, codes)
        )


def _seed_contacts(state: State, rng: random.Random, count: int) -> None:
    for number in range(1, count + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        contact_id = f"C{number:04d}"
        state.contacts[contact_id] = Contact(
            contact_id,
            {
                "display_name": f"{first} {last}",
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower()}{number}@example.com",
                "company": rng.choice(_BUSINESS),
                "business_phone": _phone(rng, "4420"),
                "mobile_phone": _phone(rng),
                "work_city": "LONDON",
                "work_country": "UNITED KINGDOM",
            },
        )


def _seed_categories(state: State) -> None:
    for parent_id, label, children in CATEGORY_TREE:
        state.categories[parent_id] = Category(parent_id, label, "")
        for child_id, value in children:
            state.categories[child_id] = Category(child_id, label, value, parent_id)


def _seed_flows(state: State) -> None:
    created = state.reference - dt.timedelta(days=400)
    for position, (name, kind, notes, xml) in enumerate(FLOWS):
        state.call_flows[name] = CallFlow(
            name=name,
            xml=xml,
            notes=notes,
            template_type=kind,
            created=fmt(created + dt.timedelta(days=30 * position)),
        )


def _seed_sound_files(state: State, seed: int) -> None:
    created = fmt(state.reference - dt.timedelta(days=200))
    for position, (label, group) in enumerate(
        (("welcome", "default"), ("hold_music", "default"), ("closed", "out_of_hours")), start=1
    ):
        data = sound_bytes(f"{seed}:sound:{label}", 12_000 + 4_000 * position)
        state.sound_files[(label, group)] = SoundFile(
            str(position), label, group, data, f"seeded {label}", created, created
        )
    state.counters["sound_file"] = 3


def _uk_regions(state: State) -> list[Region]:
    return [r for r in state.regions if r.country_code == "44" and r.number_type == "GEOGRAPHIC"]


def _new_number(state: State, region: Region, purchased: str) -> VoxNumber:
    number = region.allocate()
    vox = VoxNumber(
        number=number,
        country_code=region.country_code,
        area_code=region.area_code,
        number_type="LOCAL" if region.number_type == "GEOGRAPHIC" else "NATIONAL",
        country_name=region.country_name,
        city_name=region.city_name,
        purchase_date=purchased,
    )
    state.voxnumbers[number] = vox
    return vox


def _seed_nodes(state: State, rng: random.Random, config: EmulatorConfig) -> list[Link]:
    reference = config.reference_date
    uk = _uk_regions(state)
    contacts = sorted(state.contacts)
    links: list[Link] = []
    flows = sorted(state.call_flows)
    for number in range(1, config.nodes + 1):
        created = reference - dt.timedelta(days=config.days + 30 + rng.randrange(300))
        name = f"{_BUSINESS[(number - 1) % len(_BUSINESS)]} {number}"
        node = Node(f"N{number:04d}", name, rng.choice(_NODE_TYPES), fmt(created))
        state.nodes[node.node_id] = node
        for _ in range(rng.randint(1, 3)):
            channel = rng.choice(_CHANNELS)
            link = Link(
                link_id=f"L{len(links) + 1:05d}",
                node_id=node.node_id,
                link_name=f"{channel} {len(node.link_ids) + 1}",
                link_type=channel,
                link_date=fmt(created + dt.timedelta(days=1)),
                rule_template=rng.choice(flows),
            )
            link.category_ids = [
                str(201 + _CHANNELS.index(channel)),
                rng.choice(("101", "102", "103", "104")),
            ]
            contact = state.contacts[rng.choice(contacts)] if contacts else None
            if contact is not None:
                link.rules_variable = [
                    {
                        "rule_id": "call",
                        "rule_type": "call",
                        "contact_id": contact.contact_id,
                        "phone_number": contact.fields["business_phone"],
                    }
                ]
            vox = _new_number(state, rng.choice(uk), fmt(created))
            vox.link_id = link.link_id
            link.voxnumber = vox.number
            state.links[link.link_id] = link
            node.link_ids.append(link.link_id)
            links.append(link)
    return links


def _seed_spare_numbers(state: State, rng: random.Random, config: EmulatorConfig) -> None:
    geographic = [r for r in state.regions if r.number_type == "GEOGRAPHIC" and r.stock > 10]
    for _ in range(config.spare_voxnumbers):
        purchased = config.reference_date - dt.timedelta(days=rng.randrange(1, 365))
        _new_number(state, rng.choice(geographic), fmt(purchased))


class _Stamps:
    """Fast ``YYYY-MM-DD HH:MM:SS`` texts for second offsets from a start time."""

    def __init__(self, first: dt.datetime) -> None:
        self.first = first
        self.base = first.hour * 3600 + first.minute * 60 + first.second
        self.days: dict[int, str] = {}

    def text(self, offset: int) -> str:
        """The time ``offset`` seconds after the start, as API text."""
        total = self.base + offset
        day, second = divmod(total, 86_400)
        date = self.days.get(day)
        if date is None:
            date = self.days[day] = (self.first.date() + dt.timedelta(days=day)).isoformat()
        return f"{date} {second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}"


def _seed_calls(
    state: State, rng: random.Random, config: EmulatorConfig, links: list[Link]
) -> list[Row]:
    if not links or config.calls <= 0:
        return []
    span = config.days * 86_400
    stamps = _Stamps(config.reference_date - dt.timedelta(days=config.days))
    draw = rng.random
    offsets = sorted(int(draw() * span) for _ in range(config.calls))
    callers = [_phone(rng) for _ in range(max(50, config.calls // 4))]
    durations = [hms(seconds) for seconds in range(2_000)]
    cumulative = [sum(_RESULT_WEIGHTS[: index + 1]) for index in range(len(_RESULTS))]
    rows: list[Row] = []
    for position, offset in enumerate(offsets):
        link = links[int(draw() * len(links))]
        node = state.nodes[link.node_id]
        recorded = draw() < config.recorded_fraction
        if recorded:
            result = "ANSWERED"
        else:
            pick = draw() * cumulative[-1]
            result = next(
                name for name, edge in zip(_RESULTS, cumulative, strict=True) if pick < edge
            )
        ring = 3 + int(draw() * 23)
        if recorded:
            talk = 20 + int(draw() * 881)
        elif result == "ANSWERED":
            talk = 5 + int(draw() * 596)
        else:
            talk = 0
        origin = callers[int(draw() * len(callers))]
        destination = str(link.rules_variable[0]["phone_number"]) if link.rules_variable else ""
        rows.append(
            (
                str(1_000_001 + position),
                stamps.text(offset),
                stamps.text(offset + ring + talk),
                origin,
                origin[:4] + str(10**9 + int(draw() * 9 * 10**9)),
                "UNITED KINGDOM",
                link.voxnumber or "",
                destination,
                "",
                durations[ring + talk],
                str(ring + talk),
                durations[talk],
                str(talk),
                "DIRECT",
                result,
                RULE_LABELS.get(link.rule_template or "", "Forward to destination"),
                node.node_id,
                node.node_name,
                node.node_type,
                link.link_id,
                link.link_name,
                link.link_type,
                "1" if recorded else "0",
                "1" if result != "ANSWERED" and draw() < 0.5 else "0",
                "IN",
            )
        )
    return rows


def _seed_sms(state: State, rng: random.Random, config: EmulatorConfig, links: list[Link]) -> None:
    if not links:
        return
    first = config.reference_date - dt.timedelta(days=config.days)
    offsets = sorted(rng.randrange(config.days * 86_400) for _ in range(config.sms))
    for offset in offsets:
        link = rng.choice(links)
        sms = Sms(
            sms_activity_id=state.uuid("sms", config.seed),
            origin="IOVOX",
            destination=_phone(rng),
            message=rng.choice(_MESSAGES),
            date=fmt(first + dt.timedelta(seconds=offset)),
            link_id=link.link_id,
            node_id=link.node_id,
        )
        state.sms[sms.sms_activity_id] = sms
