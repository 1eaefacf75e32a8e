"""Fixtures shared by the engine tests: a seeded network and in-memory publishers."""

from __future__ import annotations

import pytest

from tests.engine.memory_publisher import MemoryPublishers
from tests.factories import seed_network


@pytest.fixture
def net(hub):
    with hub.transaction() as s:
        return seed_network(s, hub.clock.now())


@pytest.fixture
def pubs() -> MemoryPublishers:
    return MemoryPublishers()
