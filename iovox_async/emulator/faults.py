"""Seeded fault injection: latency, 5xx, 429, dropped connections, truncated bodies.

Every request gets a :class:`Plan` decided up front from ``random.Random`` seeded
with ``(seed, "Interface.method", n)`` where ``n`` counts that method's requests, so
the same seed replays the same faults for the same sequence of calls to a method,
whatever else runs concurrently. Faults that answer instead of the method (5xx,
429) happen before the method runs: its effect is not applied. Drops and truncated
bodies happen after it ran: the effect is applied but the client never learns so,
which is exactly the case a client must not blindly retry.

A script (``{"Purchase.purchaseVoxNumbers": ["drop"]}``) forces faults in order
before any random draw; ``"*"`` scripts any method and ``"ok"`` passes one through.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import httpx

BEFORE_KINDS = frozenset({"500", "502", "502-html", "503", "429"})
AFTER_KINDS = frozenset({"drop", "truncate"})
SCRIPT_KINDS = BEFORE_KINDS | AFTER_KINDS | {"ok"}


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app so the server closes the connection without a full response.

    It subclasses ``httpx.RemoteProtocolError`` because ``httpx.ASGITransport``
    re-raises application exceptions: in process, the client then sees what httpx's
    own transport reports when a real server hangs up.
    """

    def __init__(self, message: str = "the emulator dropped the connection") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class FaultSpec:
    """Fault rates for one method (or the default); ``None`` means "inherit"."""

    latency_ms: tuple[float, float] | None = None
    """Fixed (a, a) or a uniform range (a, b) of added latency, in milliseconds."""
    error_rate: float | None = None
    """Share of requests answered 500, 502 or 503 instead of running the method."""
    rate_limit_rate: float | None = None
    """Share of requests answered 429 with Retry-After instead of running the method."""
    drop_rate: float | None = None
    """Share of requests whose connection is closed, with no response, after the method ran."""
    truncate_rate: float | None = None
    """Share of requests whose body is cut short (full Content-Length) after the method ran."""
    retry_after: int | None = None
    """Seconds in the Retry-After header of 429 answers."""
    html_share: float | None = None
    """Share of injected 5xx answers that are an HTML 502 page from a proxy."""

    def merged(self, override: FaultSpec) -> FaultSpec:
        """This spec with every value ``override`` sets replaced."""
        changes = {
            item.name: getattr(override, item.name)
            for item in fields(override)
            if getattr(override, item.name) is not None
        }
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON-ready data (unset values left out)."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None:
                data[item.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSpec:
        """Parse ``{"latency_ms": [5, 20], "error_rate": 0.1, ...}``; raises ValueError."""
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown fault settings: {', '.join(sorted(unknown))} (a fault spec takes"
                f" {', '.join(sorted(known))}; the top level takes default, methods, script)"
            )
        values: dict[str, Any] = {}
        for name, value in data.items():
            if value is None:
                continue
            if name == "latency_ms":
                values[name] = parse_latency(value)
            elif name == "retry_after":
                values[name] = int(value)
                if values[name] < 0:
                    raise ValueError("retry_after must not be negative")
            else:
                rate = float(value)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
                values[name] = rate
        return cls(**values)


def parse_latency(value: Any) -> tuple[float, float]:
    """``5``, ``"5"``, ``"5-20"`` or ``[5, 20]`` milliseconds as a ``(low, high)`` pair."""
    if isinstance(value, str):
        parts = value.split("-", 1) if "-" in value.strip()[1:] else [value]
        numbers = [float(part) for part in parts]
    elif isinstance(value, list | tuple):
        numbers = [float(part) for part in value]
    else:
        numbers = [float(value)]
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 0 or numbers[0] > numbers[1]:
        raise ValueError(f"latency must be A or A-B milliseconds with 0 <= A <= B, got {value!r}")
    if not all(math.isfinite(number) for number in numbers):
        raise ValueError(f"latency must be finite, got {value!r}")
    return numbers[0], numbers[1]


BASELINE = FaultSpec(
    latency_ms=(0.0, 0.0),
    error_rate=0.0,
    rate_limit_rate=0.0,
    drop_rate=0.0,
    truncate_rate=0.0,
    retry_after=1,
    html_share=0.25,
)


@dataclass(frozen=True)
class FaultSettings:
    """The default fault spec, per-method overrides and scripted one-shot faults."""

    default: FaultSpec = field(default_factory=FaultSpec)
    methods: Mapping[str, FaultSpec] = field(default_factory=dict)
    """Keyed ``"Interface.method"``, or ``"Interface.*"`` for a whole interface."""
    script: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def for_method(self, key: str) -> FaultSpec:
        """The effective spec for ``"Interface.method"``."""
        spec = BASELINE.merged(self.default)
        interface = key.split(".", 1)[0]
        wildcard = self.methods.get(f"{interface}.*")
        if wildcard is not None:
            spec = spec.merged(wildcard)
        exact = self.methods.get(key)
        if exact is not None:
            spec = spec.merged(exact)
        return spec

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, as the admin endpoint shows it."""
        return {
            "default": self.default.to_json(),
            "methods": {key: spec.to_json() for key, spec in sorted(self.methods.items())},
            "script": {key: list(kinds) for key, kinds in sorted(self.script.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSettings:
        """Parse the admin endpoint's JSON; raises ValueError on bad input.

        A flat object of rates (``{"error_rate": 0.1}``) is taken as the default spec.
        """
        if not isinstance(data, Mapping):
            raise ValueError("fault settings must be a JSON object")
        if not set(data) <= {"default", "methods", "script"}:
            return cls(default=FaultSpec.from_json(data))
        methods_data = data.get("methods") or {}
        script_data = data.get("script") or {}
        if not isinstance(methods_data, Mapping) or not isinstance(script_data, Mapping):
            raise ValueError("methods and script must be JSON objects")
        script: dict[str, tuple[str, ...]] = {}
        for key, kinds in script_data.items():
            if isinstance(kinds, str) or not isinstance(kinds, list):
                raise ValueError(f"script[{key!r}] must be a list of fault names")
            bad = [kind for kind in kinds if kind not in SCRIPT_KINDS]
            if bad:
                raise ValueError(
                    f"unknown scripted faults {bad}; use {', '.join(sorted(SCRIPT_KINDS))}"
                )
            script[str(key)] = tuple(kinds)
        return cls(
            default=FaultSpec.from_json(data.get("default") or {}),
            methods={str(key): FaultSpec.from_json(spec) for key, spec in methods_data.items()},
            script=script,
        )


@dataclass(frozen=True)
class Plan:
    """What happens to one request."""

    latency: float = 0.0
    """Seconds to wait before answering."""
    before: str | None = None
    """A fault answered instead of running the method (``"500"``, ``"429"``, ...)."""
    after: str | None = None
    """A fault after the method ran: ``"drop"`` or ``"truncate"``."""
    keep: float = 0.5
    """For ``truncate``: the share of the body sent before closing."""
    retry_after: int = 1


NO_FAULT = Plan()


class FaultController:
    """Decides each request's :class:`Plan`; thread-safe, so tests may change settings live."""

    def __init__(self, seed: int, settings: FaultSettings | None = None) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._counters: dict[str, int] = {}
        self._specs: dict[str, FaultSpec] = {}
        self._script: dict[str, deque[str]] = {}
        self._load_script()

    def _load_script(self) -> None:
        self._script = {key: deque(kinds) for key, kinds in self._settings.script.items()}

    @property
    def settings(self) -> FaultSettings:
        """The current settings."""
        return self._settings

    def set_settings(self, settings: FaultSettings) -> None:
        """Replace the settings (and any remaining script); request counters keep going."""
        with self._lock:
            self._settings = settings
            self._specs.clear()
            self._load_script()

    def reset(self) -> None:
        """Start the per-method counters and the script over, so faults replay."""
        with self._lock:
            self._counters.clear()
            self._load_script()

    def plan(self, key: str) -> Plan:
        """The plan for the next request to ``"Interface.method"``."""
        with self._lock:
            number = self._counters.get(key, 0)
            self._counters[key] = number + 1
            scripted = None
            for name in (key, "*"):
                queue = self._script.get(name)
                if queue:
                    scripted = queue.popleft()
                    break
            spec = self._specs.get(key)
            if spec is None:
                spec = self._specs[key] = self._settings.for_method(key)
        rng = random.Random(f"{self._seed}|{key}|{number}")
        low, high = spec.latency_ms or (0.0, 0.0)
        # Every draw happens whatever the outcome, so one setting never shifts another.
        latency = rng.uniform(low, high) / 1000.0
        before_draw, status_draw, html_draw = rng.random(), rng.random(), rng.random()
        after_draw, keep = rng.random(), rng.uniform(0.1, 0.9)
        retry_after = spec.retry_after if spec.retry_after is not None else 1
        if scripted is not None:
            return Plan(
                latency=latency,
                before=scripted if scripted in BEFORE_KINDS else None,
                after=scripted if scripted in AFTER_KINDS else None,
                keep=keep,
                retry_after=retry_after,
            )
        error_rate = spec.error_rate or 0.0
        before: str | None = None
        if before_draw < error_rate:
            before = ("500", "502", "503")[int(status_draw * 3)]
            if before == "502" and html_draw < 3 * (spec.html_share or 0.0):
                before = "502-html"
        elif before_draw < error_rate + (spec.rate_limit_rate or 0.0):
            before = "429"
        drop_rate = spec.drop_rate or 0.0
        after: str | None = None
        if after_draw < drop_rate:
            after = "drop"
        elif after_draw < drop_rate + (spec.truncate_rate or 0.0):
            after = "truncate"
        if latency == 0.0 and before is None and after is None:
            return NO_FAULT
        return Plan(latency, before, after, keep, retry_after)


PROXY_502_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

FAULT_MESSAGES = {
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
    "503": (503, "Service Unavailable"),
    "429": (429, "Too Many Requests"),
}
