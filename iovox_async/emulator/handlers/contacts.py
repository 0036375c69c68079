"""Contacts and categories: listing, details, creation, updates, deletion."""

from __future__ import annotations

import re
from typing import Any

from ..protocol import Reply
from ..state import Category, Contact, State
from .base import Context, fail, handles, select, sort_records, text_of

CONTACT_FIELDS = {
    "cid": "contact_id",
    "dn": "display_name",
    "comp": "company",
    "em": "email",
    "bphone": "business_phone",
    "as": "assigned_status",
}
DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "display_name",
    "email",
    "email_2",
    "company",
    "title",
    "business_phone",
    "business_fax",
    "work_address_1",
    "work_address_2",
    "work_city",
    "work_postcode",
    "work_country",
    "home_phone",
    "mobile_phone",
    "home_address_1",
    "home_address_2",
    "home_city",
    "home_postcode",
    "home_country",
    "notes",
)
EDITABLE = tuple(name for name in DETAIL_FIELDS if name != "title")


def rule_contact_id(rule: Any) -> str:
    """The contact a variable rule points at (``contact_id`` or ``contact/contact_id``)."""
    if not isinstance(rule, dict):
        return ""
    contact = rule.get("contact")
    if isinstance(contact, dict):
        return text_of(contact.get("contact_id"))
    return text_of(rule.get("contact_id"))


def _assigned(state: State, contact_id: str) -> bool:
    return any(
        rule_contact_id(rule) == contact_id
        for link in state.links.values()
        for rule in link.rules_variable
    )


def _record(state: State, contact: Contact) -> dict[str, str]:
    return {
        "contact_id": contact.contact_id,
        "display_name": contact.fields.get("display_name", ""),
        "company": contact.fields.get("company", ""),
        "email": contact.fields.get("email", ""),
        "business_phone": contact.fields.get("business_phone", ""),
        "assigned_status": "ASSIGNED" if _assigned(state, contact.contact_id) else "UNASSIGNED",
    }


@handles("Contacts.getContacts")
def get_contacts(ctx: Context) -> Reply:
    """Contacts, filtered as documented: ``display_name`` contains, the rest match."""
    contacts = list(ctx.state.contacts.values())
    for name in ("contact_id", "company", "email"):
        wanted = ctx.param(name)
        if wanted is not None:
            contacts = [c for c in contacts if _field(c, name).lower() == wanted.lower()]
    part = ctx.param("display_name")
    if part is not None:
        contacts = [c for c in contacts if part.lower() in _field(c, "display_name").lower()]
    phone = ctx.param("phone_number")
    if phone is not None:
        contacts = [c for c in contacts if _digits(phone) in _phone_numbers(c)]
    records = [_record(ctx.state, contact) for contact in contacts]
    records.sort(key=lambda record: record["contact_id"])
    records = sort_records(records, ctx.order(), CONTACT_FIELDS)
    fields = ctx.req_fields()
    return ctx.page([select(record, fields, CONTACT_FIELDS) for record in records])


def _field(contact: Contact, name: str) -> str:
    return contact.contact_id if name == "contact_id" else contact.fields.get(name, "")


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _phone_numbers(contact: Contact) -> set[str]:
    """Every phone number of a contact, digits only (the filter matches any of them)."""
    names = ("business_phone", "mobile_phone", "home_phone")
    return {_digits(contact.fields[name]) for name in names if contact.fields.get(name)}


@handles("Contacts.getContactDetails")
def get_contact_details(ctx: Context) -> Reply:
    """Every detail of one contact."""
    contact = ctx.state.contacts.get(ctx.param("contact_id") or "")
    if contact is None:
        raise fail("Contact ID does not exist")
    record: dict[str, Any] = {"contact_id": contact.contact_id}
    for name in DETAIL_FIELDS:
        record[name] = contact.fields.get(name, "")
    record["business_phone"] = [record["business_phone"]] if record["business_phone"] else []
    return ctx.page([record])


def _contact_items(ctx: Context) -> list[dict[str, Any]]:
    return [item for item in ctx.items("contact") if isinstance(item, dict)]


@handles("Contacts.createContacts")
def create_contacts(ctx: Context) -> Reply:
    """Create contacts; ids must be new."""
    items = _contact_items(ctx)
    errors = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        contact_id = ctx.text("contact_id", item)
        if contact_id in ctx.state.contacts or contact_id in seen:
            errors.append(f"Contact ID {position} of {len(items)} already exists")
        seen.add(contact_id)
    if errors:
        raise fail(*errors)
    for item in items:
        fields = {name: ctx.text(name, item) for name in EDITABLE if ctx.text(name, item)}
        contact_id = ctx.text("contact_id", item)
        ctx.state.contacts[contact_id] = Contact(contact_id, fields)
    return ctx.done()


@handles("Contacts.updateContacts")
def update_contacts(ctx: Context) -> Reply:
    """Update contacts (``replace_details=TRUE`` clears fields not sent)."""
    items = _contact_items(ctx)
    errors = [
        f"Contact ID {position} of {len(items)} does not exist"
        for position, item in enumerate(items, start=1)
        if ctx.text("contact_id", item) not in ctx.state.contacts
    ]
    if errors:
        raise fail(*errors)
    replace_all = ctx.text("replace_details").upper() == "TRUE"
    for item in items:
        contact = ctx.state.contacts[ctx.text("contact_id", item)]
        given = {name: ctx.text(name, item) for name in EDITABLE if ctx.text(name, item)}
        contact.fields = given if replace_all else {**contact.fields, **given}
        new_id = ctx.text("new_contact_id", item)
        if new_id and new_id not in ctx.state.contacts:
            ctx.state.contacts[new_id] = ctx.state.contacts.pop(contact.contact_id)
            contact.contact_id = new_id
    return ctx.done()


@handles("Contacts.deleteContacts")
def delete_contacts(ctx: Context) -> Reply:
    """Delete contacts not used by rules (unless ``rm_rules=TRUE``)."""
    ids = [item.strip() for item in (ctx.param("contact_ids") or "").split(",")]
    remove_rules = ctx.flag("rm_rules")
    errors = []
    for position, contact_id in enumerate(ids, start=1):
        where = f"{position} of {len(ids)}"
        if contact_id not in ctx.state.contacts:
            errors.append(f"Contact ID {where} does not exist")
        elif _assigned(ctx.state, contact_id) and not remove_rules:
            errors.append(f"Contact {where} is used in Rules or Rule Templates")
    if errors:
        raise fail(*errors)
    for contact_id in ids:
        ctx.state.contacts.pop(contact_id, None)
    # rm_rules=TRUE: "detaches templates whose variable rule uses it" (the docs).
    for link in ctx.state.links.values():
        if any(rule_contact_id(rule) in ids for rule in link.rules_variable):
            link.rule_template = None
            link.rules_variable = []
    return ctx.done()


# -- categories -----------------------------------------------------------------------

_HEX_COLOUR = re.compile(r"^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
CATEGORY_FIELDS = {"cid": "category_id", "cl": "label", "cv": "value", "chc": "child_count"}


@handles("Categories.getCategories")
def get_categories(ctx: Context) -> Reply:
    """Configurations (top level), or the children of ``parent_category_id``."""
    state = ctx.state
    parent = ctx.param("parent_category_id")
    if parent is not None and parent not in state.categories:
        raise fail("Category ID does not exist")
    fields = ctx.req_fields()
    if fields == ["chc"]:
        raise fail("Child Count not allow to be alone in the Required Fields")
    records = []
    for category in sorted(
        state.categories.values(),
        key=lambda item: int(item.category_id) if item.category_id.isdigit() else 0,
    ):
        if category.parent_id != parent:
            continue
        children = sum(
            1 for other in state.categories.values() if other.parent_id == category.category_id
        )
        record = {
            "category_id": category.category_id,
            "label": category.label,
            "value": category.value,
            "child_count": str(children),
        }
        records.append(select(record, fields, CATEGORY_FIELDS))
    return ctx.page(records)


@handles("Categories.getCategoryId")
def get_category_id(ctx: Context) -> Reply:
    """Categories whose label and value match, with their path."""
    label, value = ctx.param("label") or "", ctx.param("value") or ""
    delimiter = ctx.param("delimiter") or ";"
    records = []
    for category in ctx.state.categories.values():
        if category.label.lower() == label.lower() and category.value.lower() == value.lower():
            path = ctx.state.category_path(category.category_id)
            parts = [path[0].label] + [item.value for item in path[1:]]
            records.append(
                {"category_id": category.category_id, "category_path": delimiter.join(parts)}
            )
    return ctx.page(records)


def _category_items(ctx: Context) -> list[dict[str, Any]]:
    return [item for item in ctx.items("category") if isinstance(item, dict)]


@handles("Categories.createCategoryConfigurations")
def create_configurations(ctx: Context) -> Reply:
    """New top-level categories (configurations)."""
    items = _category_items(ctx)
    errors = []
    labels = {
        category.label.lower()
        for category in ctx.state.categories.values()
        if category.parent_id is None
    }
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        if ctx.text("category_id", item) in ctx.state.categories:
            errors.append(f"Category ID {where} exists")
        if ctx.text("label", item).lower() in labels:
            errors.append(f"Label {where} exist")
        colour = ctx.text("colour", item)
        if colour and not _HEX_COLOUR.match(colour):
            errors.append(f"Color {where} invalid")
    if errors:
        raise fail(*errors)
    for item in items:
        category_id = ctx.text("category_id", item)
        ctx.state.categories[category_id] = Category(
            category_id,
            ctx.text("label", item),
            "",
            None,
            ctx.text("type", item) or "Tree",
            ctx.text("colour", item),
        )
    return ctx.done()


@handles("Categories.createCategories")
def create_categories(ctx: Context) -> Reply:
    """New category values under existing parents (or configurations found by label)."""
    state = ctx.state
    items = _category_items(ctx)
    errors = []
    parents: list[str | None] = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        category_id = ctx.text("category_id", item)
        if category_id in state.categories:
            errors.append(f"Category ID {where} already exist")
        parent_id = ctx.text("parent_category_id", item)
        if parent_id and parent_id not in state.categories:
            errors.append(f"Parent ID {where} does not exist")
        if not parent_id:
            label = ctx.text("label", item).lower()
            found = [
                c.category_id
                for c in state.categories.values()
                if c.parent_id is None and c.label.lower() == label
            ]
            if not found:
                errors.append(f"Label {where} does not exist")
            parent_id = found[0] if found else ""
        parents.append(parent_id or None)
    if errors:
        raise fail(*errors)
    for item, parent in zip(items, parents, strict=True):
        category_id = ctx.text("category_id", item)
        parent_label = state.categories[parent].label if parent else ctx.text("label", item)
        state.categories[category_id] = Category(
            category_id, parent_label, ctx.text("value", item), parent
        )
    return ctx.done()


def _find_category(state: State, item: str) -> str | None:
    """The id a ``label;id`` item (the documented form) or a bare id names.

    The documented example (``Location;Cambridge``) puts a value where the id goes,
    so the part after the ``;`` may be the category id or its value under that label.
    """
    label, sep, key = item.rpartition(";")
    if not sep:
        return key if key in state.categories else None
    label = label.strip().lower()
    for category in state.categories.values():
        if category.label.lower() == label and key in (category.category_id, category.value):
            return category.category_id
    return None


def _delete_categories(ctx: Context, raw: str) -> Reply:
    items = [item.strip() for item in raw.split(",")]
    if not any(items):
        raise fail("Category IDs Empty")
    errors = []
    doomed: set[str] = set()
    for position, item in enumerate(items, start=1):
        if not item or item.endswith(";"):
            # deleteCategoryConfigurations words it "is empty", deleteCategories "Empty".
            empty = "is empty" if ctx.method.name == "deleteCategoryConfigurations" else "Empty"
            errors.append(f"Category ID {position} of {len(items)} {empty}")
            continue
        found = _find_category(ctx.state, item)
        if found is None:
            errors.append(f"Category ID {position} of {len(items)} does not exist")
        else:
            doomed.add(found)
    if errors:
        raise fail(*errors)
    changed = True
    while changed:
        extra = {c.category_id for c in ctx.state.categories.values() if c.parent_id in doomed}
        changed = not extra <= doomed
        doomed |= extra
    for category_id in doomed:
        ctx.state.categories.pop(category_id, None)
    for link in ctx.state.links.values():
        link.category_ids = [item for item in link.category_ids if item not in doomed]
    return ctx.done()


@handles("Categories.deleteCategories")
def delete_categories(ctx: Context) -> Reply:
    """Delete category values (and everything below them)."""
    return _delete_categories(ctx, ctx.param("categories") or "")


@handles("Categories.deleteCategoryConfigurations")
def delete_configurations(ctx: Context) -> Reply:
    """Delete configurations with their values."""
    return _delete_categories(ctx, ctx.param("categories_ids") or "")
