"""Counters the admin endpoint reports: requests, statuses, faults and side effects."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe counters, keyed ``"Interface.method"``.

    ``effects`` counts writes that were applied (a POST, PUT or DELETE that
    succeeded), whether or not the client saw the answer, so a test can prove a
    purchase happened exactly once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._effects: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._faults: dict[str, Counter[str]] = {}

    def request(self, key: str) -> None:
        """Count one request."""
        with self._lock:
            self._requests[key] += 1

    def status(self, status: int) -> None:
        """Count one answer by status."""
        with self._lock:
            self._statuses[str(status)] += 1

    def effect(self, key: str) -> None:
        """Count one applied side effect."""
        with self._lock:
            self._effects[key] += 1

    def fault(self, key: str, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self._faults.setdefault(key, Counter())[kind] += 1

    def effects(self, key: str) -> int:
        """How many times the method's side effect was applied."""
        with self._lock:
            return self._effects[key]

    def requests(self, key: str) -> int:
        """How many requests reached the method."""
        with self._lock:
            return self._requests[key]

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-ready data."""
        with self._lock:
            return {
                "total_requests": sum(self._requests.values()),
                "requests": dict(sorted(self._requests.items())),
                "effects": dict(sorted(self._effects.items())),
                "statuses": dict(sorted(self._statuses.items())),
                "faults": {
                    key: dict(sorted(kinds.items())) for key, kinds in sorted(self._faults.items())
                },
            }

    def reset(self) -> None:
        """Start every counter over."""
        with self._lock:
            self._requests.clear()
            self._effects.clear()
            self._statuses.clear()
            self._faults.clear()
