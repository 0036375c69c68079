"""Links: listing, creation (plain and full), updates, numbers, call flows, categories.

Link creation is planned first and applied only when every item is valid, so a
request either creates everything or nothing (the API behaves so for
createNodeFull when no number can be assigned).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..protocol import Reply
from ..state import Category, Link, Node, State
from .base import Context, fail, handles, select, sort_records, text_of
from .calls import category_links

LINK_FIELDS = {
    "nid": "node_id",
    "nn": "node_name",
    "nt": "node_type",
    "lid": "link_id",
    "ln": "link_name",
    "lt": "link_type",
    "vn": "voxnumber",
    "rn": "rule_name",
    "c2c": "click_to_call",
}
AUTO = "AUTOINCREMENT()"


def link_categories(state: State, link: Link) -> dict[str, Any] | None:
    """The link's categories as a ``cats`` container."""
    cats = []
    for category_id in link.category_ids:
        category = state.categories.get(category_id)
        if category is not None:
            cats.append(
                {
                    "category_id": category.category_id,
                    "label": category.label,
                    "value": category.value,
                }
            )
    return {"cat": cats} if cats else None


def link_record(state: State, link: Link) -> dict[str, Any]:
    """Every field getLinks can show for a link."""
    node = state.nodes.get(link.node_id)
    return {
        "node_id": link.node_id,
        "node_name": node.node_name if node else "",
        "node_type": node.node_type if node else "",
        "link_id": link.link_id,
        "link_name": link.link_name,
        "link_type": link.link_type,
        "click_to_call": link.click_to_call,
        "voxnumber": link.voxnumber or "",
        "rule_name": link.rule_template or "",
    }


@handles("Links.getLinks")
def get_links(ctx: Context) -> Reply:
    """Links filtered by node, link, type and categories (cat_ids AND, cat_ids[] OR)."""
    state = ctx.state
    node_id = ctx.param("node_id")
    if node_id is not None and node_id not in state.nodes:
        raise fail("Node ID does not exist")
    groups = ctx.params("cat_ids")
    allowed = category_links(state, groups) if groups else None
    node_type = (ctx.param("node_type") or "").lower()
    link_id, link_type = ctx.param("link_id"), (ctx.param("link_type") or "").lower()
    records = []
    for link in sorted(state.links.values(), key=lambda item: item.link_id):
        record = link_record(state, link)
        if (
            (node_id is None or link.node_id == node_id)
            and (link_id is None or link.link_id == link_id)
            and (not link_type or link.link_type.lower() == link_type)
            and (not node_type or record["node_type"].lower() == node_type)
            and (allowed is None or link.link_id in allowed)
        ):
            records.append(record)
    records = sort_records(records, ctx.order(), LINK_FIELDS)
    fields = ctx.req_fields()
    page = []
    for record in records:
        chosen = select(record, fields, LINK_FIELDS)
        chosen["cats"] = link_categories(state, state.links[record["link_id"]])
        page.append(chosen)
    return ctx.page(page)


# -- numbers --------------------------------------------------------------------------


def pick_number(state: State, assign: Mapping[str, Any], taken: set[str]) -> tuple[str | None, str]:
    """A free number for an assign_voxnumber / attachVoxnumberToLink item, or an error."""
    method = text_of(assign.get("method")).upper()
    free = [vox for vox in state.free_numbers() if vox.number not in taken]
    if method == "BY VOXNUMBER":
        number = text_of(assign.get("full_voxnumber"))
        if any(vox.number == number for vox in free):
            return number, ""
        return None, f"VoxNumber {number} is not available in your account"
    if method == "BY POSTCODE":
        postcode = text_of(assign.get("postcode")).upper().replace(" ", "")
        country = text_of(assign.get("voxnumber_country")).upper()
        areas = {
            (region.country_code, region.area_code)
            for region in state.regions
            if (not country or region.country_name == country)
            and any(postcode.startswith(code) for code in region.postcodes)
        }
        for vox in free:
            if (vox.country_code, vox.area_code) in areas:
                return vox.number, ""
        if text_of(assign.get("fallback_area_distance")):
            for vox in free:
                if not country or vox.country_name == country:
                    return vox.number, ""
        return None, (
            f"There is no VoxNumber available in your account for the Postcode {postcode}"
            " or the fallback area"
        )
    country_code = text_of(assign.get("voxnumber_idd"))
    area_code = text_of(assign.get("area_code")).lstrip("0")
    for vox in free:
        if vox.country_code == country_code and vox.area_code == area_code:
            return vox.number, ""
    return None, f"There is no VoxNumber available in your account for the Area Code {area_code}"


# -- creation -------------------------------------------------------------------------


@dataclass
class Planned:
    """A link ready to be added, with the number it will get."""

    link: Link
    number: str | None


def fresh_id(state: State, kind: str, prefix: str, taken: set[str]) -> str:
    """A generated id for ``AUTOINCREMENT()``."""
    while True:
        candidate = f"{prefix}{state.next_id(kind, 90_001):05d}"
        if candidate not in taken:
            return candidate


def plan_links(ctx: Context, node: Node, items: list[Any]) -> list[Planned]:
    """Check link items for one node and plan them; raises with every problem found."""
    state = ctx.state
    errors: list[str] = []
    plans: list[Planned] = []
    seen_ids: set[str] = set()
    taken_numbers: set[str] = set()
    names = {state.links[link_id].link_name for link_id in node.link_ids if link_id in state.links}
    total = len(items)
    for position, item in enumerate(items, start=1):
        item = item if isinstance(item, dict) else {}
        where = f"{position} of {total}"
        link_id = ctx.text("link_id", item)
        if link_id == AUTO:
            link_id = fresh_id(state, "link", "L", set(state.links) | seen_ids)
        if not link_id:
            errors.append(f"Link ID {where} Empty")
            continue
        if link_id in state.links or link_id in seen_ids:
            errors.append(f"Link ID {where} already exists")
        seen_ids.add(link_id)
        name = ctx.text("link_name", item)
        if name and name in names:
            errors.append(f"Link Name {name} is already attached to Node {node.node_id}")
        names.add(name)
        template = ctx.text("rule_template_name", item) or None
        if template is not None and template not in state.call_flows:
            errors.append(f"Rule Template Name {where} does not exist")
        categories = []
        listed = _items(item.get("categories"), "category")
        for index, category in enumerate(listed, start=1):
            category_id = text_of(category.get("category_id")) if isinstance(category, dict) else ""
            if category_id and category_id not in state.categories:
                # Numbered within the link's categories, as other item errors are.
                errors.append(f"Category ID {index} of {len(listed)} does not exist")
            elif category_id:
                categories.append(category_id)
        number = None
        assign = item.get("assign_voxnumber")
        if isinstance(assign, dict):
            number, problem = pick_number(state, assign, taken_numbers)
            if number is None:
                errors.append(problem)
            else:
                taken_numbers.add(number)
        link = Link(
            link_id=link_id,
            node_id=node.node_id,
            link_name=name,
            link_type=ctx.text("link_type", item),
            link_date=ctx.text("link_date", item) or ctx.now(),
            click_to_call=ctx.text("click_to_call", item) or "1",
            rule_template=template,
            category_ids=categories,
            rules_variable=_items(item.get("rules_variable"), "rule"),
        )
        plans.append(Planned(link, number))
    if errors:
        raise fail(*errors)
    return plans


def _items(container: Any, name: str) -> list[Any]:
    if not isinstance(container, dict):
        return []
    value = container.get(name)
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def commit_links(state: State, node: Node, plans: list[Planned]) -> None:
    """Add planned links to the node and attach their numbers."""
    for plan in plans:
        state.links[plan.link.link_id] = plan.link
        node.link_ids.append(plan.link.link_id)
        if plan.number is not None:
            state.attach_number(plan.link, plan.number)


def created_tree(node: Node, plans: list[Planned]) -> dict[str, Any]:
    """The 201 body of createNodeFull / createLinksFull: the ids created."""
    links = [{"link_id": plan.link.link_id} for plan in plans]
    return {"node_id": node.node_id, "links": {"link": links} if links else None}


@handles("Links.createLinks")
def create_links(ctx: Context) -> Reply:
    """Create links under existing nodes."""
    items = ctx.items("link")
    by_node: dict[str, list[Any]] = {}
    errors = []
    for position, item in enumerate(items, start=1):
        node_id = ctx.text("node_id", item) if isinstance(item, dict) else ""
        if node_id not in ctx.state.nodes:
            errors.append(f"Node ID {position} of {len(items)} does not exist")
            continue
        by_node.setdefault(node_id, []).append(item)
    if errors:
        raise fail(*errors)
    planned = [
        (ctx.state.nodes[node_id], plan_links(ctx, ctx.state.nodes[node_id], group))
        for node_id, group in by_node.items()
    ]
    seen: set[str] = set()
    for _, plans in planned:
        for plan in plans:
            if plan.link.link_id in seen:
                raise fail("Duplicate Link ID Received")
            seen.add(plan.link.link_id)
    for node, plans in planned:
        commit_links(ctx.state, node, plans)
    return ctx.done()


@handles("Links.createLinksFull")
def create_links_full(ctx: Context) -> Reply:
    """Create links with call flow, categories and numbers under an existing node."""
    node_data = ctx.items("node")
    data = node_data[0] if node_data and isinstance(node_data[0], dict) else {}
    node = ctx.state.nodes.get(ctx.text("node_id", data))
    if node is None:
        raise fail("Node ID does not exist")
    plans = plan_links(ctx, node, _items(data.get("links"), "link"))
    commit_links(ctx.state, node, plans)
    return ctx.tree(created_tree(node, plans))


# -- updates --------------------------------------------------------------------------


def _existing_links(ctx: Context, ids: list[str], *, blanks: bool = False) -> list[Link]:
    """The links named; ``blanks``: a blank id is an error ("Link ID x of y Empty")."""
    errors = []
    empty = next(
        (e.message for e in ctx.method.errors if e.message.lower() == "link id x of y empty"),
        "Link ID x of y Empty",
    )
    for position, link_id in enumerate(ids, start=1):
        if blanks and not link_id:
            errors.append(re.sub(r"\b[xX] of [yY]\b", f"{position} of {len(ids)}", empty))
        elif link_id and link_id not in ctx.state.links:
            errors.append(f"Link ID {position} of {len(ids)} does not exist")
    if errors:
        raise fail(*errors)
    return [ctx.state.links[link_id] for link_id in ids if link_id]


@handles("Links.updateLinks")
def update_links(ctx: Context) -> Reply:
    """Change link details, optionally renaming the id."""
    items = [item for item in ctx.items("link") if isinstance(item, dict)]
    links = _existing_links(ctx, [ctx.text("link_id", item) for item in items])
    errors = []
    for position, item in enumerate(items, start=1):
        new_id = ctx.text("new_link_id", item)
        if new_id and new_id in ctx.state.links:
            errors.append(f"New Link ID {position} of {len(items)} already exist")
        if "link_name" in item and not ctx.text("link_name", item):
            errors.append(f"Link Name {position} of {len(items)} Empty")
    if errors:
        raise fail(*errors)
    for link, item in zip(links, items, strict=True):
        for field in ("link_name", "link_type", "click_to_call", "link_date"):
            value = ctx.text(field, item)
            if value:
                setattr(link, field, value)
        new_id = ctx.text("new_link_id", item)
        if new_id:
            _rename_link(ctx.state, link, new_id)
    return ctx.done()


def _rename_link(state: State, link: Link, new_id: str) -> None:
    old_id = link.link_id
    state.links[new_id] = state.links.pop(old_id)
    link.link_id = new_id
    node = state.nodes.get(link.node_id)
    if node is not None:
        node.link_ids = [new_id if item == old_id else item for item in node.link_ids]
    if link.voxnumber and link.voxnumber in state.voxnumbers:
        state.voxnumbers[link.voxnumber].link_id = new_id


@handles("Links.deleteLinks")
def delete_links(ctx: Context) -> Reply:
    """Delete links; their numbers go back to the account's pool."""
    ids = [item.strip() for item in (ctx.param("link_ids") or "").split(",")]
    errors = [
        f"Link ID {position} of {len(ids)} Empty"
        for position, item in enumerate(ids, 1)
        if not item
    ]
    if errors:
        raise fail(*errors)
    for link in _existing_links(ctx, ids):
        ctx.state.delete_link(link.link_id)
    return ctx.done()


@handles("Links.attachVoxnumberToLink")
def attach_voxnumber(ctx: Context) -> Reply:
    """Attach a number of the account to each link (BY AREA, BY VOXNUMBER, BY POSTCODE)."""
    items = [item for item in ctx.items("link") if isinstance(item, dict)]
    links = _existing_links(ctx, [ctx.text("link_id", item) for item in items])
    taken: set[str] = set()
    chosen = []
    errors = []
    for link, item in zip(links, items, strict=True):
        number, problem = pick_number(ctx.state, item, taken)
        if number is None and link.voxnumber and ctx.text("full_voxnumber", item) == link.voxnumber:
            number = link.voxnumber
        if number is None:
            errors.append(problem)
            continue
        taken.add(number)
        chosen.append((link, number))
    if errors:
        raise fail(*errors)
    for link, number in chosen:
        ctx.state.attach_number(link, number)
    return ctx.done()


@handles("Links.removeVoxnumberFromLink")
def remove_voxnumber(ctx: Context) -> Reply:
    """Detach each link's number and return it to the pool."""
    ids = [text_of(item) for item in ctx.items("link_id")]
    links = _existing_links(ctx, ids, blanks=True)
    errors = [
        f"Link ID {position} of {len(links)} does not have a VoxNumber"
        for position, link in enumerate(links, start=1)
        if not link.voxnumber
    ]
    if errors:
        raise fail(*errors)
    for link in links:
        if link.voxnumber:
            ctx.state.detach_number(link.voxnumber)
    return ctx.done()


def _template_links(ctx: Context) -> list[Link]:
    ids = [text_of(item) for item in ctx.items("link_ids", "link_id")]
    if not ids:
        raise fail("Link IDs Empty")
    if len(set(ids)) != len(ids):
        raise fail("Duplicate Link ID Received")
    return _existing_links(ctx, ids, blanks=True)


@handles("Links.attachRuleTemplateToLinks", "Links.attachSMSTemplateToLinks")
def attach_template(ctx: Context) -> Reply:
    """Attach a call flow (or SMS flow) with its variable values to links."""
    name = ctx.text("template_name")
    if name not in ctx.state.call_flows:
        raise fail("Template Name does not exist")
    links = _template_links(ctx)
    rules = _items(ctx.body.get("rules_variable"), "rule")
    sms = ctx.method.name == "attachSMSTemplateToLinks"
    if ctx.text("overwrite_existing").upper() != "TRUE":
        # The docs: FALSE errors when a template is attached (the wording is ours).
        kind = "SMS Template" if sms else "Rule Template"
        taken = [
            f"Link ID {position} of {len(links)} already has a {kind}"
            for position, link in enumerate(links, start=1)
            if (link.sms_template if sms else link.rule_template)
        ]
        if taken:
            raise fail(*taken)
    for link in links:
        if sms:
            link.sms_template = name
        else:
            link.rule_template = name
            link.rules_variable = list(rules)  # the new template's values replace the old
    return ctx.done()


@handles("Links.removeRuleTemplateFromLinks", "Links.removeSMSTemplateFromLinks")
def remove_template(ctx: Context) -> Reply:
    """Detach the call flow (or SMS flow) from links."""
    for link in _template_links(ctx):
        if ctx.method.name == "removeSMSTemplateFromLinks":
            link.sms_template = None
        else:
            link.rule_template = None
    return ctx.done()


@handles("Links.attachCategoryToLink")
def attach_category(ctx: Context) -> Reply:
    """Attach a category value to links, creating the value under its parent if new."""
    items = [item for item in ctx.items("link") if isinstance(item, dict)]
    links = _existing_links(ctx, [ctx.text("link_id", item) for item in items])
    errors = []
    for position, item in enumerate(items, start=1):
        category_id = ctx.text("category_id", item)
        parent_id = ctx.text("parent_category_id", item)
        if category_id not in ctx.state.categories and parent_id not in ctx.state.categories:
            errors.append(f"Parent Category ID {position} of {len(items)} does not exist")
    if errors:
        raise fail(*errors)
    for link, item in zip(links, items, strict=True):
        category_id = ctx.text("category_id", item)
        if category_id not in ctx.state.categories:
            parent = ctx.state.categories[ctx.text("parent_category_id", item)]
            ctx.state.categories[category_id] = Category(
                category_id,
                ctx.text("label", item) or parent.label,
                ctx.text("value", item),
                parent.category_id,
            )
        if category_id not in link.category_ids:
            link.category_ids.append(category_id)
    return ctx.done()


@handles("Links.removeCategoryFromLink")
def remove_category(ctx: Context) -> Reply:
    """Remove categories from links."""
    items = [item for item in ctx.items("link") if isinstance(item, dict)]
    links = _existing_links(ctx, [ctx.text("link_id", item) for item in items])
    for link, item in zip(links, items, strict=True):
        category_id = ctx.text("category_id", item)
        if category_id in link.category_ids:
            link.category_ids.remove(category_id)
    return ctx.done()
