"""CLIs (caller ids shown on outbound calls): createClis and deleteClis.

The API has no method that lists CLIs, so their state shows through these two:
a CLI created twice is refused, a deleted one is gone (deleting it again fails),
and one presented by a link is "in use" unless ``rm_if_in_use=TRUE``.
"""

from __future__ import annotations

from ..protocol import Reply
from ..state import Cli
from .base import Context, fail, handles, list_param, text_of


@handles("Clis.createClis")
def create_clis(ctx: Context) -> Reply:
    """Import CLIs; every one must be new (to the account and within the request)."""
    numbers = [text_of(item) for item in ctx.items("cli")]
    errors = []
    seen: set[str] = set()
    for position, number in enumerate(numbers, start=1):
        if not number:
            errors.append(ctx.error("Cli x of y Empty", position, len(numbers)))
        elif number in ctx.state.clis or number in seen:
            errors.append(ctx.error("Cli x of y already exists", position, len(numbers)))
        seen.add(number)
    if errors:
        raise fail(*errors)
    for number in numbers:
        ctx.state.clis[number] = Cli(number)
    return ctx.done()


@handles("Clis.deleteClis")
def delete_clis(ctx: Context) -> Reply:
    """Delete CLIs; one a link presents needs ``rm_if_in_use=TRUE`` (the link loses it)."""
    numbers = list_param(ctx, "clis")
    force = ctx.flag("rm_if_in_use")
    errors = []
    for position, number in enumerate(numbers, start=1):
        where = (position, len(numbers))
        cli = ctx.state.clis.get(number)
        if not number:
            errors.append(ctx.error("Cli x of y Empty", *where))
        elif cli is None:
            errors.append(ctx.error("Cli x of y does not exist", *where))
        elif cli.link_ids and not force:
            errors.append(ctx.error("Cli x of y in use", *where))
    if errors:
        raise fail(*errors)
    for number in numbers:
        ctx.state.clis.pop(number, None)
    return ctx.done()
