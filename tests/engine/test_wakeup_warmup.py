"""`network-hub run` builds the publishers its first delivery needs before the dispatcher serves,
so the first claim after a start does not set up HTTP clients inside its transaction."""

from __future__ import annotations

from network_hub.service import Service
from publishers.registry import Publishers
from tests.engine.builders import add_outlet
from tests.engine.memory_publisher import MemoryPublisher
from tests.factories import seed_network


def test_publishers_of_active_outlets_are_built_before_serving(hub) -> None:
    made: list[str] = []

    def factory(platform: str, _settings: object) -> MemoryPublisher:
        made.append(platform)
        return MemoryPublisher(platform=platform)

    with hub.transaction() as s:
        now = hub.clock.now()
        seed_network(s, now)
        add_outlet(s, now, platform="telegram", address="-1001")
        add_outlet(s, now, platform="telegram", address="-1002")
        paused = add_outlet(s, now, platform="facebook", address="page-1")
        paused.status = "paused"
    service = Service(hub, Publishers(hub.settings, factory), with_bot=False, with_web=False)
    service._warm_up_publishers()
    assert made == ["telegram"]  # once per platform; a paused outlet's platform is not built
    service._warm_up_publishers()
    assert made == ["telegram"]  # made once per process, then reused by every claim and send


def test_an_unknown_platform_does_not_stop_the_warm_up_nor_the_start(hub) -> None:
    made: list[str] = []

    def factory(platform: str, _settings: object) -> MemoryPublisher:
        if platform == "carrier-pigeon":
            raise ValueError(f"no publisher for {platform}")
        made.append(platform)
        return MemoryPublisher(platform=platform)

    with hub.transaction() as s:
        seed_network(s, hub.clock.now())
        add_outlet(s, hub.clock.now(), platform="carrier-pigeon", address="loft")
        add_outlet(s, hub.clock.now(), platform="telegram", address="-1001")
    service = Service(hub, Publishers(hub.settings, factory), with_bot=False, with_web=False)
    service._warm_up_publishers()  # logged at debug; those deliveries fail later with their own error
    assert made == ["telegram"]
