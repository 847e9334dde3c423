"""Which delivery ids are stored: what a host sends, never a value a header could not carry."""

from __future__ import annotations

import pytest

from plugin_api.webhooks.intake import DELIVERY_ID_PATTERN


@pytest.mark.parametrize("value", ["72d3162e-cc78-11e3-81ab-4c9367dc0958", "k-1", "x" * 200])
def test_a_hosts_delivery_id_is_taken(value: str) -> None:
    assert DELIVERY_ID_PATTERN.match(value)


@pytest.mark.parametrize("value", ["", "x" * 201, "k-1\n", "k 1", "k-\u00e9", "k-1\r\n"])
def test_an_id_no_host_sends_is_refused_even_ending_in_a_line_break(value: str) -> None:
    assert DELIVERY_ID_PATTERN.match(value) is None
