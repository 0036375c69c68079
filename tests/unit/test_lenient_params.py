"""The client is no stricter than the docs (issue 12, item 7)."""

from __future__ import annotations

import warnings

import pytest

from iovox_async import UndocumentedValueWarning, ValidationError
from iovox_async._catalog import METHODS
from iovox_async._params import build_query

VARIABLE_RULES = METHODS["Rules"]["getVariableRulesOfTemplate"]
CALL_DATA = METHODS["Calls"]["getCallData"]


def test_variable_rules_take_link_id_alone() -> None:
    assert build_query(VARIABLE_RULES, {"link_id": "L1"}) == [("link_id", "L1")]


def test_unlisted_req_fields_are_sent_with_a_warning() -> None:
    with pytest.warns(UndocumentedValueWarning, match="'newfield' is not among"):
        pairs = build_query(CALL_DATA, {"req_fields": ["id", "newfield"]})
    assert pairs == [("req_fields", "id,newfield")]


def test_listed_req_fields_raise_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_query(CALL_DATA, {"req_fields": ["id", "cs"]}) == [("req_fields", "id,cs")]


def test_other_value_lists_still_refuse() -> None:
    with pytest.raises(ValidationError, match="output must be one of XML, JSON"):
        build_query(CALL_DATA, {"output": "CSV"})


def test_every_req_fields_docstring_states_the_rule() -> None:
    import importlib
    import inspect
    import pkgutil

    import iovox_async.interfaces as package

    docs = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls.__name__.endswith("Interface"):
                docs += [
                    inspect.getdoc(f) or ""
                    for name, f in inspect.getmembers(cls)
                    if not name.startswith("iter_")  # a paged twin repeats its method's docs
                ]
    listed = [doc for doc in docs if "req_fields:" in doc and "Documented:" in doc]
    expected = sum(
        1
        for methods in METHODS.values()
        for method in methods.values()
        if (param := method.param("req_fields")) is not None and param.values
    )
    assert len(listed) == expected > 10
    assert all("UndocumentedValueWarning" in doc for doc in listed)
