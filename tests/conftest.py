"""A secret scan over the whole suite.

Every secure key a client is created with is registered (``_redact.register_secret``).
During every test, each log record of any logger, at DEBUG and above, and every
exception a test catches with ``pytest.raises`` (or fails with) is checked for a
registered key: in the message, ``repr``, ``args``, attributes and the whole
``__cause__``/``__context__`` chain. A find fails the test that produced it, naming
where the key was seen.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from iovox_async import _redact

_ORIGINAL_RAISES = pytest.raises


def _secrets() -> list[str]:
    return sorted(_redact._SECRETS)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
        grouped = getattr(current, "exceptions", None)  # an exception group's members
        if isinstance(grouped, (list, tuple)):
            pending.extend(e for e in grouped if isinstance(e, BaseException))


def _texts(error: BaseException) -> Iterator[tuple[str, str]]:
    name = type(error).__name__
    yield f"str({name})", str(error)
    yield f"repr({name})", repr(error)
    yield f"{name}.args", repr(error.args)
    yield f"format_exception_only({name})", "".join(traceback.format_exception_only(error))
    for note in getattr(error, "__notes__", ()):
        yield f"{name}.__notes__", str(note)
    for attribute, value in list(getattr(error, "__dict__", {}).items()):
        if isinstance(value, BaseException):
            continue  # walked as part of the chain when linked, else its own check
        yield f"{name}.{attribute}", repr(value)


def leaks_in_exception(error: BaseException) -> list[str]:
    """Where a registered secret shows in ``error`` or its chain (empty when clean)."""
    secrets = _secrets()
    if not secrets:
        return []
    found = []
    for link in _chain(error):
        for where, text in _texts(link):
            if any(secret in text for secret in secrets):
                found.append(where)
    return found


def assert_no_secret_in(error: BaseException) -> None:
    leaks = leaks_in_exception(error)
    assert not leaks, f"a registered secure key appears in {', '.join(leaks)}"


class _ScanningRaises:
    """``pytest.raises`` as a context manager, scanning what it catches."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> Any:
        return self._inner.__enter__()

    def __exit__(self, kind: Any, value: BaseException | None, tb: Any) -> Any:
        if value is not None:
            assert_no_secret_in(value)
        return self._inner.__exit__(kind, value, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _scanning_raises(*args: Any, **kwargs: Any) -> Any:
    if len(args) > 1:  # the form pytest.raises(Error, func, *args)
        info = _ORIGINAL_RAISES(*args, **kwargs)
        assert_no_secret_in(info.value)
        return info
    return _ScanningRaises(_ORIGINAL_RAISES(*args, **kwargs))


class _SecretScanHandler(logging.Handler):
    """Collects every log record that shows a registered secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        secrets = _secrets()
        if not secrets:
            return
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format is not ours to judge
            text = f"{record.msg!r} {record.args!r}"
        if any(secret in text for secret in secrets):
            self.leaks.append(f"log record of {record.name!r}: {text[:200]!r}")
        if record.exc_info and record.exc_info[1] is not None:
            for where in leaks_in_exception(record.exc_info[1]):
                self.leaks.append(f"log record of {record.name!r} (exc_info {where})")


@pytest.fixture(autouse=True)
def secret_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[_SecretScanHandler]:
    """Scan every log record (any logger, DEBUG up) and every caught exception."""
    monkeypatch.setattr(pytest, "raises", _scanning_raises)
    handler = _SecretScanHandler()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert not handler.leaks, "a registered secure key was logged:\n" + "\n".join(handler.leaks)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that fails with an exception carrying a secret fails for that reason too."""
    report = yield
    if call.excinfo is not None and call.when == "call" and report.failed:
        leaks = leaks_in_exception(call.excinfo.value)
        if leaks:
            report.longrepr = (
                f"a registered secure key appears in {', '.join(leaks)} (details withheld)"
            )
    return report
