"""JavaScript-API action keys (JsApi) and the portal login (User): known only by name.

The Ruby peer names these methods and nothing more, so their answers are the
emulator's own: 40-hex keys like the JavaScript API's docs show, one
``<action_key>`` element per answer, and a login URL carrying a fresh token.
"""

from __future__ import annotations

from ..protocol import Reply
from .base import Context, handles

PORTAL_URL = "https://portal.iovox.example/login?token="


@handles("JsApi.createActionKey")
def create_action_key(ctx: Context) -> Reply:
    """A new action key; getActionKey answers it from now on."""
    key = ctx.state.token("action_key", ctx.config.seed)
    ctx.state.action_keys.append(key)
    return ctx.tree({"action_key": key})


@handles("JsApi.getActionKey")
def get_action_key(ctx: Context) -> Reply:
    """The account's newest action key."""
    return ctx.tree({"action_key": ctx.state.action_keys[-1]})


@handles("User.userPortalLogin")
def user_portal_login(ctx: Context) -> Reply:
    """A single-use portal login URL (each call hands out a new token)."""
    token = ctx.state.token("portal_login", ctx.config.seed, length=32)
    ctx.state.portal_logins.append(token)
    return ctx.tree({"login_url": PORTAL_URL + token})
