"""The runtime form of the API spec.

``spec/*.yaml`` is the source of truth; ``scripts/generate.py`` turns it into
``iovox_async/_catalog.py``, which builds these objects. The transport, the
generated coroutines, the CLI and the emulator all read the catalog, so nothing at
run time needs a YAML parser. Documentation-only facts (parameter and element
docs, doc URLs, confidence) stay in the spec and the generated docstrings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

HttpVerb = Literal["GET", "POST", "PUT", "DELETE"]
ValueType = Literal["string", "integer", "boolean", "datetime", "date", "xml"]
ResponseKind = Literal["xml", "binary", "empty"]


@dataclass(frozen=True, slots=True)
class Param:
    """One query-string parameter of a method (besides ``v`` and ``method``)."""

    name: str
    type: ValueType = "string"
    required: bool = False
    values: tuple[str, ...] = ()
    """Allowed values; empty means any value of the type."""
    separator: str | None = None
    """Set for list parameters: ``,`` ``|`` ``;`` join items; ``[]`` repeats ``name[]``."""
    minimum: int | None = None
    maximum: int | None = None
    default: str | None = None
    """The server's documented default (never sent; the emulator applies it)."""

    @property
    def is_list(self) -> bool:
        return self.separator is not None

    @property
    def advisory_values(self) -> bool:
        """Whether ``values`` only lists the documented choices instead of fencing them.

        True for ``req_fields``: its lists come from docs pages that are partly cut,
        and the server answers ``Required Fields Invalid`` itself, so an unlisted
        field is sent with a warning rather than refused.
        """
        return self.name == "req_fields"


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One element of a payload or response tree. Names starting with ``@`` are attributes."""

    name: str
    type: ValueType = "string"
    required: bool = False
    repeated: bool = False
    values: tuple[str, ...] = ()
    children: tuple[ElementSpec, ...] = ()
    holds_lists: bool = field(init=False, repr=False, compare=False)
    """Whether any element below this one repeats (derived once, read per response)."""

    def __post_init__(self) -> None:
        holds = any(child.repeated or child.holds_lists for child in self.children)
        object.__setattr__(self, "holds_lists", holds)


@dataclass(frozen=True, slots=True)
class ErrorDoc:
    """An error the method documents; ``x``/``y``/``z`` in the message are placeholders."""

    status: int
    message: str


@dataclass(frozen=True, slots=True)
class Method:
    """Everything known about one API method."""

    interface: str
    name: str
    http: HttpVerb
    summary: str
    idempotent: bool
    response_kind: ResponseKind
    query: tuple[Param, ...] = ()
    payload: tuple[ElementSpec, ...] | None = None
    response: tuple[ElementSpec, ...] = ()
    errors: tuple[ErrorDoc, ...] = ()
    timeout: float | None = None
    repeated: frozenset[str] = field(default_factory=frozenset)
    """Response element names that always decode as lists."""
    payload_one_of: tuple[str, ...] = ()
    """Top-level payload elements of which exactly one must be given (Flow: call, SMS or
    email flow)."""
    query_index: dict[str, tuple[int, Param]] = field(init=False, repr=False, compare=False)
    """Each query parameter by name, with its place in ``query`` (derived once)."""
    required_query: tuple[tuple[int, Param], ...] = field(init=False, repr=False, compare=False)
    """The required query parameters, with their places (derived once)."""

    def __post_init__(self) -> None:
        index = {param.name: (place, param) for place, param in enumerate(self.query)}
        object.__setattr__(self, "query_index", index)
        required = tuple(entry for entry in index.values() if entry[1].required)
        object.__setattr__(self, "required_query", required)

    def param(self, name: str) -> Param | None:
        entry = self.query_index.get(name)
        return None if entry is None else entry[1]


def repeated_names(elements: tuple[ElementSpec, ...]) -> frozenset[str]:
    """Every element name marked ``repeated`` anywhere in a tree."""
    names: set[str] = set()
    stack = list(elements)
    while stack:
        element = stack.pop()
        if element.repeated:
            names.add(element.name)
        stack.extend(element.children)
    return frozenset(names)


R = TypeVar("R")


class Endpoint(Generic[R]):
    """A method together with the Python type its calls return.

    The generated interfaces define one per method, so ``AsyncIovox._invoke`` is
    typed end to end: ``_invoke(Endpoint[CallDataPage](...), ...)`` returns a
    ``CallDataPage`` without a cast in the generated code.
    """

    __slots__ = ("method",)

    def __init__(self, method: Method) -> None:
        self.method = method
