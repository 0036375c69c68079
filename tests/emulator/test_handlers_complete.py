"""Every catalog method has its own emulator handler, and there is no fallback."""

from __future__ import annotations

import dataclasses

import pytest

from iovox_async._catalog import METHODS
from iovox_async.emulator import handlers
from iovox_async.emulator.app import EmulatorApp
from iovox_async.emulator.handlers import HANDLERS, missing_handlers


def test_every_catalog_method_has_a_handler() -> None:
    assert missing_handlers(METHODS) == []
    assert not hasattr(handlers.base, "default_handler")


def test_handlers_answer_catalog_methods_only() -> None:
    known = {f"{interface}.{name}" for interface, methods in METHODS.items() for name in methods}
    assert set(HANDLERS) <= known


def test_an_app_refuses_a_method_without_a_handler() -> None:
    real = METHODS["Clis"]["createClis"]
    invented = dataclasses.replace(real, name="inventedMethod")
    catalog = {"Clis": {"createClis": real, "inventedMethod": invented}}
    with pytest.raises(ValueError, match=r"no emulator handler for Clis\.inventedMethod"):
        EmulatorApp(catalog=catalog)
