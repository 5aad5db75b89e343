"""The page's real waitress server: a few slow or half-open clients cannot keep the owner's phone out."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from device.config import Config
from tests.webconfig.slow_clients import fetch, open_idle
from webconfig.server import start_background


@pytest.mark.slow
def test_the_page_answers_while_60_half_open_connections_are_open(config: Config) -> None:
    with start_background(config) as server, ExitStack() as stack:
        open_idle(server.url, 60, stack)
        # Not a timing: the bound only keeps a failing run from hanging (before, the request waited for
        # waitress to time the idle ones out: a minute).
        assert fetch(server.url + "/login", timeout=20) == 200
