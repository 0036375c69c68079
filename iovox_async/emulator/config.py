"""The emulator's settings: credentials, seed data sizes, reference date and faults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .faults import FaultSettings

DEFAULT_USERNAME = "emulator"
DEFAULT_SECURE_KEY = "emulator-secret-key"
DEFAULT_SEED = 1
DEFAULT_REFERENCE = dt.datetime(2026, 10, 15, 0, 0, 0)
"""The emulator's "today": seed calls cover the days before it, and its clock starts here."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes one emulator instance.

    The same config (same ``seed``) always builds the same seed data and replays the
    same faults for the same sequence of requests.
    """

    username: str = DEFAULT_USERNAME
    secure_key: str = DEFAULT_SECURE_KEY
    seed: int = DEFAULT_SEED
    reference_date: dt.datetime = DEFAULT_REFERENCE
    calls: int = 10_000
    """Seeded call records, spread over ``days`` days before ``reference_date``."""
    days: int = 90
    recorded_fraction: float = 1 / 3
    nodes: int = 40
    spare_voxnumbers: int = 40
    """Numbers owned by the account but attached to no link."""
    contacts: int = 30
    sms: int = 50
    partner_name: str = "emulator-partner"
    """The account's own partner name (``origin_partner_name`` of transferVoxnumbers)."""
    other_partners: tuple[str, ...] = ("emulator-partner-2",)
    keepalive_timeout: float = 5.0
    """Idle seconds before the HTTP server closes a kept-alive connection (the API: about 5)."""
    faults: FaultSettings = field(default_factory=FaultSettings)

    def __post_init__(self) -> None:
        # Friendlier inputs: faults in their JSON form, the reference date as text.
        faults: object = self.faults
        if isinstance(faults, Mapping):
            object.__setattr__(self, "faults", FaultSettings.from_json(faults))
        elif not isinstance(faults, FaultSettings):
            raise TypeError("faults must be FaultSettings or its JSON form (a dict)")
        reference: object = self.reference_date
        if isinstance(reference, str):
            object.__setattr__(self, "reference_date", parse_reference_date(reference))
        if self.calls < 0 or self.days < 1 or self.nodes < 0:
            raise ValueError("calls and nodes must not be negative, days must be at least 1")

    def with_changes(self, **changes: object) -> EmulatorConfig:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_reference_date(text: str) -> dt.datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (a ``T`` separator is accepted too)."""
    text = text.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"reference date must be YYYY-MM-DD[ HH:MM:SS], got {text!r}")
