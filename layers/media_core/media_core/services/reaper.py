"""The reaper: a record must never stay `processing` for ever. If a processor was stopped
mid-way (Lambda timeout, out of memory) on its last delivery, nothing else will settle the
record; this job fails it with a reason and removes whatever that run wrote.

Workflow runs (a long video handed to the segment-parallel transcode: the record's
`metadata.transcode.execution_arn`) are settled by their state machine, which may legitimately
run longer than any function: such a record is left alone while DescribeExecution says RUNNING,
and reaped once the execution ended (failed, timed out, aborted, or succeeded without settling)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from media_core.domain.errors import InvalidTransition
from media_core.domain.events import Announcement, DetailType, event_detail
from media_core.domain.guards import RecordGuard
from media_core.domain.keys import media_prefix
from media_core.domain.models import Kind, MediaRecord, Status, utc_now
from media_core.domain.transitions import Transition
from media_core.ports import MediaRecords, ObjectStorage, OutboxFlush, RecordsByStatus, WorkflowRuns

logger = Logger(child=True)


@dataclass(frozen=True)
class ReapReport:
    examined: int
    failed: list[str]


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


@dataclass
class Reaper:
    repository: MediaRecords
    index: RecordsByStatus
    store: ObjectStorage
    media_bucket: str
    # How long a record may stay `processing` per kind: the queue's visibility timeout (a retry
    # re-claims and refreshes the record before then) plus the function's timeout, plus margin.
    stuck_after: Mapping[Kind, timedelta]
    uploads_bucket: str = ""
    max_receive_count: int = 5
    relay: OutboxFlush | None = None
    workflows: WorkflowRuns | None = field(default=None)

    @staticmethod
    def execution_of(record: MediaRecord) -> str | None:
        transcode = record.metadata.get("transcode")
        arn = transcode.get("execution_arn") if isinstance(transcode, dict) else None
        return str(arn) if arn else None

    def _workflow_reason(self, record: MediaRecord) -> str | None:
        """None: the record's workflow still runs (leave it). Otherwise why it is reaped."""
        arn = self.execution_of(record)
        assert arn is not None
        status = self.workflows.status(arn) if self.workflows is not None else None
        if status == "RUNNING":
            return None
        ended = "does not exist" if status is None else f"ended {status}"
        return f"processing failed: the transcode workflow {ended} without settling the record"

    def _limit(self, record: MediaRecord) -> timedelta:
        """A claim made before the last attempt still has retries due: its message comes back
        after the visibility timeout, possibly later when the queue is backed up (bounded
        concurrency). Such a record is given the time of every attempt left, not one."""
        left = max(1, self.max_receive_count - record.claim_attempt + 1)
        return self.stuck_after[record.kind] * left

    def run(self, now: datetime | None = None) -> ReapReport:
        now = now or utc_now()
        shortest = min(self.stuck_after.values())
        examined, failed = 0, []
        for record in self.index.changed_before(Status.PROCESSING, now - shortest):
            examined += 1
            if record.run_id is None:
                continue
            if self.execution_of(record) is not None:
                workflow_reason = self._workflow_reason(record)
                if workflow_reason is None:
                    continue
                reason = workflow_reason
            else:
                if record.updated_at > now - self._limit(record):
                    continue
                reason = (
                    f"processing timed out: no result {_minutes(now - record.updated_at)} after it started "
                    f"(the {record.kind.value} processor was stopped before finishing)"
                )
            try:
                self.repository.transition(
                    record,
                    Transition(
                        Status.FAILED,
                        changes={"failure_reason": reason, "variants": {}},
                        guard=RecordGuard(run_id=record.run_id),
                        announce=lambda r: Announcement(
                            DetailType.FAILED, event_detail(r, self.uploads_bucket, self.media_bucket)
                        ),
                    ),
                )
            except InvalidTransition:
                continue  # it finished (or was re-claimed) meanwhile
            self.store.delete_prefix(
                self.media_bucket, f"{media_prefix(record.owner, record.media_id)}{record.run_id}/"
            )
            logger.warning("reaped stuck record", media_id=record.media_id, reason=reason)
            failed.append(record.media_id)
        if failed and self.relay is not None:
            self.relay.flush()
        return ReapReport(examined, failed)
