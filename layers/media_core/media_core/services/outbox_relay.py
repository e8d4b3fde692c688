"""Relaying the outbox to the event bus: at least once. An event is removed from the outbox only
after the bus accepted it; one the bus refuses stays for the next run (the schedule, or the next
write's relay). Consumers deduplicate on `detail.media_id` + `detail.version`."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from media_core.ports import EventBus, Outbox

logger = Logger(child=True)


@dataclass(frozen=True)
class RelayReport:
    published: int
    failed: int


@dataclass
class OutboxRelay:
    outbox: Outbox
    bus: EventBus
    batch: int = 50

    def drain(self, max_batches: int = 20) -> RelayReport:
        published = failed = 0
        for _ in range(max_batches):
            pending = self.outbox.pending(self.batch)
            if not pending:
                break
            progressed = False
            for event in pending:
                if self.bus.deliver(event.announcement.detail_type, event.announcement.detail):
                    self.outbox.remove(event)
                    published += 1
                    progressed = True
                else:
                    failed += 1
            if not progressed:
                break  # the bus refuses everything: leave it to the next run
        if failed:
            logger.warning("events left in the outbox for the next relay", failed=failed)
        return RelayReport(published, failed)

    def flush(self) -> None:
        """Right after a write: best effort (the schedule retries whatever stays)."""
        try:
            self.drain(max_batches=1)
        except Exception:
            logger.exception("outbox relay failed; the scheduled relay retries")
