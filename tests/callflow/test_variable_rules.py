"""getVariableRulesOfTemplate with link_id alone, as a live call of the Ruby peer made it."""

from __future__ import annotations

import pytest

from iovox_async import BadRequestError
from iovox_async.testing import RunningEmulator


async def test_link_id_alone_reads_the_links_template(emulator: RunningEmulator) -> None:
    link = next(link for link in emulator.state.links.values() if link.rule_template)
    async with emulator.client() as iovox:
        by_link = await iovox.rules.get_variable_rules_of_template(link_id=link.link_id)
        both = await iovox.rules.get_variable_rules_of_template(
            template_name=link.rule_template, link_id=link.link_id
        )
    assert by_link == both
    assert by_link["rules"]["rule"], "the seeded templates have variable rules"


async def test_unknown_link_is_the_documented_error(emulator: RunningEmulator) -> None:
    async with emulator.client() as iovox:
        with pytest.raises(BadRequestError) as caught:
            await iovox.rules.get_variable_rules_of_template(link_id="no-such-link")
    assert [item.message for item in caught.value.errors] == ["Link ID Doesn't exist"]
