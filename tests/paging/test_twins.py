"""Every paged method of the catalog, and only those, has a typed ``iter_`` twin."""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncGenerator
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from iovox_async import interfaces
from iovox_async._catalog import METHODS
from iovox_async._spec import ElementSpec, Method

TOTALS = {"current_page", "total_pages", "total_results"}


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def is_paged(method: Method) -> bool:
    params = {param.name for param in method.query}
    return {"page", "limit"} <= params and {e.name for e in method.response} >= TOTALS


def rows_path(elements: tuple[ElementSpec, ...]) -> list[str]:
    for element in elements:
        if element.repeated:
            return [element.name]
        if element.children:
            found = rows_path(element.children)
            if found:
                return [element.name, *found]
    return []


def interface_class(interface: str) -> type[Any]:
    attribute = interfaces.INTERFACE_ATTRIBUTES[interface]
    hints = get_type_hints(getattr(interfaces.Interfaces, attribute).func)
    cls: type[Any] = hints["return"]
    return cls


PAGED = [
    (interface, method)
    for interface, methods in METHODS.items()
    for method in methods.values()
    if is_paged(method)
]


def test_the_twins_are_exactly_the_paged_methods() -> None:
    expected = {
        (interface, "iter_" + snake(method.name).removeprefix("get_"))
        for interface, method in PAGED
    }
    found = {
        (interface, name)
        for interface in METHODS
        for name in dir(interface_class(interface))
        if name.startswith("iter_")
    }
    assert found == expected
    assert len(expected) >= 20  # nodes, links, contacts, voxnumbers, SMS, CDRs, ...
    assert ("Rules", "iter_variable_rules_of_template") not in found  # paged, but no totals


@pytest.mark.parametrize(("interface", "method"), PAGED, ids=[m.name for _, m in PAGED])
def test_a_twin_takes_the_filters_and_yields_the_typed_rows(interface: str, method: Method) -> None:
    cls = interface_class(interface)
    plain = getattr(cls, snake(method.name))
    twin = getattr(cls, "iter_" + snake(method.name).removeprefix("get_"))
    assert not inspect.iscoroutinefunction(twin)  # checks its arguments when called
    plain_args = set(inspect.signature(plain).parameters) - {"page", "limit"}
    assert set(inspect.signature(twin).parameters) == plain_args | {"page_size", "prefetch"}
    for name in plain_args - {"self"}:
        assert (
            inspect.signature(twin).parameters[name].annotation
            == inspect.signature(plain).parameters[name].annotation
        )
    page_type: Any = get_type_hints(plain)["return"]
    *parents, last = rows_path(method.response)
    for name in parents:
        page_type = get_type_hints(page_type)[name]
    row_list = get_type_hints(page_type)[last]
    returns = get_type_hints(twin)["return"]
    assert get_origin(returns) is AsyncGenerator
    assert get_args(returns) == (get_args(row_list)[0], None)
