"""The account and its sub-accounts: credit, subscription, sub-account creation.

The API account has a subscription (seeded active); sub-accounts beneath it are
created by createSubAccount (with an active subscription) or seeded (one active,
one without). A ``SubAccountName`` header on getAccountCreditDetails reads a
sub-account's credit, as the docs' ``HTTP_SUBACCOUNTNAME`` describes.
"""

from __future__ import annotations

from typing import Any

from ..protocol import Reply
from ..state import SubAccount, Subscription
from .base import Context, fail, handles, text_of

SUB_ACCOUNT_HEADER = "subaccountname"


@handles("Subscriptions.getAccountCreditDetails")
def get_account_credit_details(ctx: Context) -> Reply:
    """The credit and credit-check flag of the account, or of the sub-account named."""
    state = ctx.state
    name = ctx.headers.get(SUB_ACCOUNT_HEADER, "").strip()
    credit, check = state.credit, state.check_credit
    if name:
        account = state.sub_accounts.get(name)
        if account is None:
            # Not in the docs' table: the text setAccountCheckCredit uses for the same case.
            raise fail("The provided subAccountName is not valid")
        credit, check = account.credit, account.check_credit
    return ctx.tree(
        {
            "check_credit": "TRUE" if check else "FALSE",
            "credit": str(credit),
            "last_credit_replenish_date": state.reference.strftime("%Y-%m-01 00:00:00"),
            "total_available_credit": str(credit),
        }
    )


@handles("Subscriptions.updateSubscriptionDetails")
def update_subscription_details(ctx: Context) -> Reply:
    """Set the API account's subscription (active again) and remove the numbers listed.

    Emulator rules where the docs' table is cut: every number to remove must be
    the account's ("VoxNumber x of y does not exist").
    """
    state = ctx.state
    remove = [text_of(item) for item in ctx.items("voxnumbers_to_remove", "voxnumber")]
    missing = [
        f"VoxNumber {position} of {len(remove)} does not exist"
        for position, number in enumerate(remove, start=1)
        if number not in state.voxnumbers
    ]
    if missing:
        raise fail(*missing)
    location: Any = ctx.body.get("subscriber_location")
    location = location if isinstance(location, dict) else {}
    state.subscription = Subscription(
        active=True,
        recurring_credit=int(ctx.text("recurring_credit")),
        voxnumber_quantity=int(ctx.text("voxnumber_quantity")),
        country=ctx.text("subscriber_country", location),
        city=ctx.text("subscriber_city", location),
        state=ctx.text("subscriber_state", location),
        billing_length=int(ctx.text("billing_length")),
        billing_length_unit=ctx.text("billing_length_unit").upper(),
    )
    for number in remove:
        state.detach_number(number)
        state.voxnumbers.pop(number, None)
    return ctx.done()


def _subscription(ctx: Context, name: str, invalid: str) -> tuple[Subscription, SubAccount | None]:
    """The subscription of the named sub-account (the API account's when ``name`` is empty)."""
    if not name:
        return ctx.state.subscription, None
    account = ctx.state.sub_accounts.get(name)
    if account is None or account.parent_account_name not in _own_accounts(ctx):
        raise fail(ctx.error(invalid))
    return account.subscription, account


def _own_accounts(ctx: Context) -> set[str]:
    """The API account and every account beneath it."""
    return {ctx.state.account_name, *ctx.state.sub_accounts}


@handles("Subscriptions.cancelSubscription")
def cancel_subscription(ctx: Context) -> Reply:
    """Cancel the subscription of the API account or of a sub-account beneath it."""
    name = ctx.text("sub_account_name")
    subscription, _ = _subscription(ctx, name, "The provided sub_account_name is not valid")
    if not subscription.active:
        raise fail(ctx.error("There are no active subscriptions in this account"))
    subscription.active = False
    return ctx.done()


@handles("Users.setAccountCheckCredit")
def set_account_check_credit(ctx: Context) -> Reply:
    """Turn credit checking on or off for a subscribed sub-account."""
    name = ctx.text("sub_account_name")
    subscription, account = _subscription(ctx, name, "The provided subAccountName is not valid")
    assert account is not None  # sub_account_name is required, so the name is never empty
    if not subscription.active:
        raise fail(
            ctx.error(
                "The account must have active subscriptions to set credit check. "
                "Create a subscription for this account first."
            )
        )
    account.check_credit = ctx.text("check_credit").upper() == "TRUE"
    return ctx.done()


@handles("Users.createSubAccount")
def create_sub_account(ctx: Context) -> Reply:
    """A new sub-account (subscribed) beneath the API account or one of its sub-accounts.

    Emulator rules where the docs are cut: the name must be new ("Account Name
    already exists") and the parent one of the API's own accounts ("Parent Account
    Name does not exist"). The answer is an empty ``<response/>`` with 201.
    """
    name, parent = ctx.text("account_name"), ctx.text("parent_account_name")
    errors = []
    if name in _own_accounts(ctx):
        errors.append("Account Name already exists")
    if parent not in _own_accounts(ctx):
        errors.append("Parent Account Name does not exist")
    if errors:
        raise fail(*errors)
    details = {key: value for key, value in ctx.body.items() if key not in ("account_name",)}
    ctx.state.sub_accounts[name] = SubAccount(
        account_name=name, parent_account_name=parent, details=details, subscription=Subscription()
    )
    return ctx.tree({})
