"""Nodes: listing (flattened node x link rows), details, creation, updates, deletion."""

from __future__ import annotations

from typing import Any

from ..protocol import Reply
from ..state import Link, Node, State
from .base import Context, fail, handles, select, sort_records
from .links import AUTO, _items, commit_links, created_tree, fresh_id, plan_links

NODE_FIELDS = {
    "nid": "node_id",
    "nn": "node_name",
    "nt": "node_type",
    "lid": "link_id",
    "ln": "link_name",
    "lt": "link_type",
    "rtn": "rule_template_name",
}
LINK_PARTS = {
    "lid": "link_id",
    "ln": "link_name",
    "lt": "link_type",
    "ld": "link_date",
    "vn": "voxnumber",
}
NODE_PARTS = {"nid": "node_id", "nn": "node_name", "nt": "node_type", "nd": "node_date"}
CATEGORY_PARTS = {"cid": "category_id", "cl": "label", "cv": "value"}


def _row(node: Node, link: Link | None) -> dict[str, str]:
    return {
        "node_id": node.node_id,
        "node_name": node.node_name,
        "node_type": node.node_type,
        "link_id": link.link_id if link else "",
        "link_name": link.link_name if link else "",
        "link_type": link.link_type if link else "",
        "voxnumber": (link.voxnumber or "") if link else "",
        "rule_template_name": (link.rule_template or "") if link else "",
    }


@handles("Nodes.getNodes")
def get_nodes(ctx: Context) -> Reply:
    """One row per node and link (a node without links gives one row)."""
    state = ctx.state
    wanted = {
        name: ctx.param(name)
        for name in ("node_id", "node_type", "link_id", "link_type", "voxnumber")
        if ctx.param(name) is not None
    }
    rule_name = ctx.param("rule_name")
    rows = []
    for node in state.nodes.values():
        links: list[Link | None] = [
            state.links[link_id] for link_id in node.link_ids if link_id in state.links
        ]
        for link in links or [None]:
            row = _row(node, link)
            if all(row[name].lower() == str(value).lower() for name, value in wanted.items()) and (
                rule_name is None or row["rule_template_name"] == rule_name
            ):
                rows.append(row)
    rows.sort(key=lambda row: (row["node_id"], row["link_id"]))
    rows = sort_records(rows, ctx.order(), NODE_FIELDS)
    fields = ctx.req_fields()
    page = []
    for row in rows:
        chosen = select(row, fields, NODE_FIELDS)
        if "lid" in fields:
            chosen["voxnumber"] = row["voxnumber"]
        page.append(chosen)
    return ctx.page(page)


def node_details(
    state: State, node: Node, fields: list[str], link_id: str | None
) -> dict[str, Any]:
    """A node with its links, their numbers, call flow, rules and categories."""
    result = select(
        {
            "node_id": node.node_id,
            "node_name": node.node_name,
            "node_type": node.node_type,
            "node_date": node.node_date,
        },
        fields,
        NODE_PARTS,
    )
    links = []
    for current in node.link_ids:
        link = state.links.get(current)
        if link is None or (link_id is not None and link.link_id != link_id):
            continue
        entry: dict[str, Any] = select(
            {
                "link_id": link.link_id,
                "link_name": link.link_name,
                "link_type": link.link_type,
                "link_date": link.link_date,
                "voxnumber": link.voxnumber or "",
            },
            fields,
            LINK_PARTS,
        )
        entry["rule_template_name"] = link.rule_template or ""
        rules = [_rule(rule) for rule in link.rules_variable if isinstance(rule, dict)]
        entry["rules"] = {"rule": rules} if rules else None
        cats = []
        for category_id in link.category_ids:
            category = state.categories.get(category_id)
            if category is not None:
                cats.append(
                    select(
                        {
                            "category_id": category.category_id,
                            "label": category.label,
                            "value": category.value,
                        },
                        fields,
                        CATEGORY_PARTS,
                    )
                )
        entry["cats"] = {"cat": cats} if any(cats) else None
        links.append(entry)
    result["links"] = {"link": links} if links else None
    return result


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: rule.get(key, "") for key in ("rule_id", "rule_type", "rule_label")}
    contact = rule.get("contact")
    if isinstance(contact, dict):
        out["contact"] = {
            "contact_id": contact.get("contact_id", ""),
            "phone_number": contact.get("phone_number") or contact.get("business_phone", ""),
        }
    elif "contact_id" in rule:
        out["contact"] = {
            "contact_id": rule["contact_id"],
            "phone_number": rule.get("phone_number", ""),
        }
    return out


@handles("Nodes.getNodeDetails")
def get_node_details(ctx: Context) -> Reply:
    """One node with its links (optionally only one link)."""
    node = ctx.state.nodes.get(ctx.param("node_id") or "")
    if node is None:
        raise fail("Node ID Doesn't exist")
    return ctx.page([node_details(ctx.state, node, ctx.req_fields(), ctx.param("link_id"))])


def _new_node(ctx: Context, item: dict[str, Any], taken: set[str]) -> Node:
    node_id = ctx.text("node_id", item)
    if node_id == AUTO:
        node_id = fresh_id(ctx.state, "node", "N", taken)
    return Node(
        node_id=node_id,
        node_name=ctx.text("node_name", item),
        node_type=ctx.text("node_type", item),
        node_date=ctx.text("node_date", item) or ctx.now(),
    )


@handles("Nodes.createNodes")
def create_nodes(ctx: Context) -> Reply:
    """Create nodes; every id must be new and unique in the request."""
    items = [item for item in ctx.items("node") if isinstance(item, dict)]
    errors = []
    seen: set[str] = set()
    nodes = []
    for position, item in enumerate(items, start=1):
        node = _new_node(ctx, item, set(ctx.state.nodes) | seen)
        if node.node_id in seen:
            errors.append("Duplicate Node ID Received")
        elif node.node_id in ctx.state.nodes:
            errors.append(f"Node ID {position} of {len(items)} already exists")
        seen.add(node.node_id)
        nodes.append(node)
    if errors:
        raise fail(*errors)
    for node in nodes:
        ctx.state.nodes[node.node_id] = node
    return ctx.done()


@handles("Nodes.createNodeFull")
def create_node_full(ctx: Context) -> Reply:
    """A node with links, call flows, categories and numbers, all or nothing; 201 with ids."""
    node_items = ctx.items("node")
    data = node_items[0] if node_items and isinstance(node_items[0], dict) else {}
    node = _new_node(ctx, data, set(ctx.state.nodes))
    if node.node_id in ctx.state.nodes:
        raise fail("Node ID 1 of 1 already exists")
    plans = plan_links(ctx, node, _items(data.get("links"), "link"))
    ctx.state.nodes[node.node_id] = node
    commit_links(ctx.state, node, plans)
    return ctx.tree(created_tree(node, plans))


@handles("Nodes.updateNodes")
def update_nodes(ctx: Context) -> Reply:
    """Change node details, optionally renaming the id."""
    state = ctx.state
    items = [item for item in ctx.items("node") if isinstance(item, dict)]
    errors = []
    for position, item in enumerate(items, start=1):
        where = f"{position} of {len(items)}"
        if ctx.text("node_id", item) not in state.nodes:
            errors.append(f"Node ID {where} does not exist")
        new_id = ctx.text("new_node_id", item)
        if new_id and new_id in state.nodes:
            errors.append(f"New Node ID {where} already exist")
        for field, name in (("node_name", "Node Name"), ("node_type", "Node Type")):
            if field in item and not ctx.text(field, item):
                errors.append(f"{name} {where} Empty")
    if errors:
        raise fail(*errors)
    for item in items:
        node = state.nodes[ctx.text("node_id", item)]
        for field in ("node_name", "node_type", "node_date"):
            value = ctx.text(field, item)
            if value:
                setattr(node, field, value)
        new_id = ctx.text("new_node_id", item)
        if new_id:
            state.nodes[new_id] = state.nodes.pop(node.node_id)
            node.node_id = new_id
            for link_id in node.link_ids:
                if link_id in state.links:
                    state.links[link_id].node_id = new_id
    return ctx.done()


@handles("Nodes.deleteNodes")
def delete_nodes(ctx: Context) -> Reply:
    """Delete nodes with their links; the links' numbers return to the pool."""
    ids = [item.strip() for item in (ctx.param("node_ids") or "").split(",")]
    errors = []
    for position, node_id in enumerate(ids, start=1):
        where = f"{position} of {len(ids)}"
        if not node_id:
            errors.append(f"Node ID {where} Empty")
        elif node_id not in ctx.state.nodes:
            errors.append(f"Node ID {where} does not exist")
    if errors:
        raise fail(*errors)
    for node_id in ids:
        node = ctx.state.nodes.pop(node_id, None)
        if node is not None:
            for link_id in list(node.link_ids):
                ctx.state.delete_link(link_id)
    return ctx.done()
