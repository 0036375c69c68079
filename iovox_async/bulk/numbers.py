"""Buy VoxNumbers safely: each purchase sent once, unknown outcomes reconciled.

A purchase is never retried once it may have reached the server (the client raises
``OutcomeUnknownError`` instead). Before buying, the account's numbers and recent
orders are read; after an unknown outcome they are read again, and a new order or
new numbers matching the item that no answered purchase accounts for are
attributed to it (see :mod:`.reconcile`). The report then says, per item: bought
(``ok``), ``failed`` (not bought), or ``unknown`` (could not be established; check
before buying again).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._catalog import METHODS
from .._errors import ValidationError
from .mapping import bulk_map, check_concurrency
from .reconcile import Snapshot, order_numbers, reconcile, snapshot
from .report import BulkReport, Progress, SkipItem

if TYPE_CHECKING:
    from .._client import AsyncIovox

NUMBER_TYPES = ("NATIONAL", "GEOGRAPHIC", "TOLLFREE")
MAX_CALLBACK_URL = 120
_DIGITS = re.compile(r"^[0-9]{1,6}$")


def _item_fields() -> frozenset[str]:
    for element in METHODS["Purchase"]["purchaseVoxNumbers"].payload or ():
        if element.name == "items":
            return frozenset(child.name for child in element.children[0].children)
    return frozenset()  # pragma: no cover - the spec has it


ITEM_FIELDS = _item_fields()

_Entry = tuple[dict[str, Any] | None, Any, ValidationError | None]


@dataclass(slots=True)
class Purchase:
    """What one basket item bought.

    ``reconciled`` is True when the purchase's answer was lost and the numbers were
    found on the account afterwards (``getVoxnumbers``).
    """

    item: dict[str, Any]
    numbers: list[str] = field(default_factory=list)
    order_reference: str | None = None
    order_status: str | None = None
    reconciled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "numbers": self.numbers,
            "order_reference": self.order_reference,
            "order_status": self.order_status,
            "reconciled": self.reconciled,
        }


def validate_item(item: Any) -> dict[str, Any]:
    """Check one basket item against the spec; return it with numbers as ints.

    Raises ValidationError with every problem found, before anything is sent.
    """
    if not isinstance(item, Mapping):
        raise ValidationError(f"a purchase item must be a mapping, got {type(item).__name__}")
    problems: list[str] = []
    clean: dict[str, Any] = dict(item)
    unknown = sorted(set(clean) - ITEM_FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)}")
    for name in ("country_code", "area_code", "quantity"):
        value = clean.get(name)
        if value is None:
            continue
        text = str(value).strip()
        if isinstance(value, bool) or not _DIGITS.match(text):
            problems.append(f"{name} must be digits, got {value!r}")
        else:
            clean[name] = int(text) if name != "area_code" else text
    if clean.get("country_code") is None:
        problems.append("country_code is required")
    quantity = clean.get("quantity")
    if quantity is None:
        problems.append("quantity is required")
    elif isinstance(quantity, int) and quantity < 1:
        problems.append("quantity must be at least 1")
    number_type = clean.get("number_type")
    if number_type not in NUMBER_TYPES:
        allowed = ", ".join(NUMBER_TYPES)
        problems.append(f"number_type must be one of {allowed}, got {number_type!r}")
    elif number_type == "GEOGRAPHIC" and not (clean.get("area_code") or clean.get("post_code")):
        problems.append("a GEOGRAPHIC item needs area_code or post_code")
    if problems:
        raise ValidationError("invalid purchase item: " + "; ".join(problems))
    return clean


def check_options(callback_url: str | None) -> None:
    """Check the options shared by every purchase of a batch."""
    if callback_url is not None:
        if len(callback_url) > MAX_CALLBACK_URL:
            raise ValidationError(f"callback_url is limited to {MAX_CALLBACK_URL} characters")
        if not callback_url.startswith(("http://", "https://")):
            raise ValidationError("callback_url must be an http(s) URL")


def describe_item(item: Mapping[str, Any]) -> str:
    """``2 GEOGRAPHIC numbers in +44 151``."""
    where = f"+{item.get('country_code')}"
    if item.get("area_code"):
        where += f" {item['area_code']}"
    elif item.get("post_code"):
        where += f" (post code {item['post_code']})"
    quantity = item.get("quantity")
    plural = "" if quantity == 1 else "s"
    return f"{quantity} {item.get('number_type')} number{plural} in {where}"


async def purchase_numbers(
    client: AsyncIovox,
    items: Iterable[Mapping[str, Any]],
    *,
    dry_run: bool = False,
    callback_url: str | None = None,
    cc_list: str | None = None,
    dynamic_quantity: bool | None = None,
    concurrency: int = 1,
    reconcile_unknown: bool = True,
    progress: Progress | None = None,
) -> BulkReport[Purchase]:
    """The engine of :meth:`Bulk.purchase_numbers` (documented there), for ``client``."""
    check_concurrency(concurrency)
    check_options(callback_url)
    entries: list[_Entry] = []
    for raw in items:
        try:
            entries.append((validate_item(raw), raw, None))
        except ValidationError as error:
            entries.append((None, raw, error))
    sendable = any(clean is not None for clean, _, _ in entries)
    before = Snapshot()
    if not dry_run and reconcile_unknown and sendable:
        before = await snapshot(client)

    async def buy(entry: _Entry) -> Purchase:
        clean, _, invalid = entry
        if invalid is not None or clean is None:
            raise invalid or ValidationError("invalid purchase item")
        if dry_run:
            await _check_available(client, clean)
            raise SkipItem(f"dry run: would buy {describe_item(clean)}")
        answer = await client.purchase.purchase_vox_numbers(
            items={"item": [clean]},  # type: ignore[list-item]
            callback_url=callback_url,
            cc_list=cc_list,
            dynamic_quantity=dynamic_quantity,
        )
        return Purchase(
            clean,
            order_numbers(answer),
            order_reference=_text(answer.get("order_reference")),
            order_status=_text(answer.get("order_status")),
        )

    report = await bulk_map(buy, entries, concurrency=concurrency, progress=progress)
    for result in report.results:
        clean, raw, _ = result.item
        result.item = clean if clean is not None else _plain(raw)
    if not dry_run and reconcile_unknown:
        await reconcile(client, report, before)
    return report


async def _check_available(client: AsyncIovox, item: dict[str, Any]) -> None:
    """For a dry run: raise what the real purchase would fail on, as far as
    ``getVoxnumberRegions`` tells (a region not offered, purchase details missing).

    Stock is not listed by the API, so a shortfall shows only in the real run.
    """
    area = str(item.get("area_code") or "").lstrip("0") or None
    page = await client.purchase.get_voxnumber_regions(
        number_type=item["number_type"], country_code=str(item["country_code"]), area_code=area
    )
    regions = (page.get("results") or {}).get("result") or []
    where = f"+{item['country_code']}" + (f" {area}" if area else "")
    if not regions:
        raise ValidationError(
            f"dry run: the real run would fail: getVoxnumberRegions offers no"
            f" {item['number_type']} numbers in {where}"
        )
    if not item.get("additional_information") and all(
        str(region.get("require_purchase_info")) == "1" for region in regions
    ):
        raise ValidationError(
            f"dry run: the real run would fail: numbers in {where} need additional_information"
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (dict, str, int)) else repr(value)


def bought(report: BulkReport[Purchase]) -> list[str]:
    """Every number a purchase report shows as bought."""
    return [number for purchase in report.values() for number in purchase.numbers]


__all__ = [
    "Purchase",
    "bought",
    "describe_item",
    "purchase_numbers",
    "validate_item",
]
