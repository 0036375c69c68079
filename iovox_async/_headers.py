"""Response headers as the user sees them: read-only, case-insensitive, secret-free.

Both wires answer with their library's own header type (aiohttp's ``CIMultiDictProxy``,
``httpx.Headers``); :class:`Headers` is one type for both, made only when someone asks
for the headers (a raw response, an error), never on the common path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ._redact import redact

WITHHELD_HEADERS = frozenset(
    {
        "securekey",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "set-cookie2",
    }
)
"""Headers never kept, lower-case: a server or proxy echoing the request's credentials
would put them here, and a cookie is a credential of its own."""


class Headers(Mapping[str, str]):
    """HTTP headers: ``headers["Content-Type"]`` and ``headers["content-type"]`` agree.

    A name sent more than once maps to its values joined with ``", "``;
    :meth:`get_all` gives them one by one. Iteration yields each name once, as
    first received.
    """

    __slots__ = ("_names", "_values")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        names: dict[str, str] = {}
        values: dict[str, list[str]] = {}
        for name, value in items:
            key = name.lower()
            names.setdefault(key, name)
            values.setdefault(key, []).append(value)
        self._names = names
        self._values = values

    @classmethod
    def received(cls, headers: Mapping[str, str]) -> Headers:
        """The headers of an answer without any that could hold a secret.

        Credential headers (``WITHHELD_HEADERS``) are dropped, and a registered secure
        key inside any other value is replaced with ``***``.
        """
        multi = getattr(headers, "multi_items", None)  # httpx joins repeats in items()
        pairs: Iterable[tuple[str, str]] = multi() if callable(multi) else headers.items()
        return cls(
            (str(name), redact(str(value)))
            for name, value in pairs
            if str(name).lower() not in WITHHELD_HEADERS
        )

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        return ", ".join(self._values[name.lower()])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._names)

    def get_all(self, name: str) -> list[str]:
        """Every value sent under ``name``, in order (empty when absent)."""
        return list(self._values.get(name.lower(), ()))

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


NO_HEADERS = Headers()
