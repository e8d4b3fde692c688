"""Events are delivered at least once: written with the record change that causes them, relayed
to the bus after it, kept while the bus refuses them."""

from __future__ import annotations

from media_core.domain.events import DetailType
from media_core.processing.lifecycle import Outcome

from tests.unit.services.conftest import World
from tests.unit.services.test_processing_pipeline import FIRST, FakeProcessor, upload


def test_an_event_the_bus_refuses_stays_in_the_outbox_until_a_later_relay(world: World) -> None:
    # Given a bus that refuses everything while an image becomes ready
    world.events.refuse = True
    record = world.awaiting(size=600)
    result = world.pipeline().handle(upload(world, record, b"x" * 600), FIRST, FakeProcessor())
    assert result.outcome == Outcome.READY
    # Then no event reached the bus: it waits in the outbox
    assert world.events.of_type(DetailType.READY) == []
    assert [a.detail_type for a in world.records.outbox] == [DetailType.READY]
    # When the bus is back and the scheduled relay runs
    world.events.refuse = False
    report = world.relay.drain()
    # Then the event is published once, naming the record as the write left it; the outbox is empty
    assert (report.published, report.failed) == (1, 0)
    [detail] = world.events.of_type(DetailType.READY)
    stored = world.stored(record.media_id)
    assert (detail["media_id"], detail["status"], detail["version"]) == (
        record.media_id,
        "ready",
        stored.version,
    )
    assert world.records.outbox == []
    assert world.relay.drain().published == 0
