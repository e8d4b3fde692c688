"""The segment-parallel transcode through the local stack: template.yaml's state machine
(statemachines/transcode.asl.json) executed by moto's ASL interpreter, its Lambda tasks routed to
the in-process functions. `ParallelTranscodeMinSeconds=1` forces the parallel path on a short clip
(2 s GOPs, 6 s segments: a 14 s clip has 3)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import m3u8
import pytest
import requests
from media_core.dal.clients import dynamodb_table
from media_core.dal.dynamo.status_index import StatusIndex
from media_core.dal.workflows import StepFunctionsRuns
from media_core.domain.errors import InvalidTransition
from media_core.domain.guards import RecordGuard
from media_core.domain.models import MediaRecord, Status, utc_now
from media_core.domain.transitions import Transition
from media_core.engines.av import probe as av_probe
from media_core.engines.av.probe import probe
from media_core.services.reaper import Reaper
from media_core.settings import reaper_settings
from media_core.wiring import media_repository, object_store, processing_pipeline

from local_stack.stack import LocalStack
from tests.support.av_media import ffmpeg
from tests.support.flow import (
    deliver,
    download,
    media_objects,
    queued_messages,
    record,
    start_upload,
    upload,
    wait_settled,
)
from tests.support.hls_media import AAC, X264, count_video_frames
from tests.support.local_stack import bearer, running_stack

SECONDS, FPS = 14, 25


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    params = {"ParallelTranscodeMinSeconds": "1", "HlsLadder": "240,144", "VideoPreset": "ultrafast"}
    with running_stack(tmp_path_factory.mktemp("stack"), pollers=False, params=params) as running:
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "talk.mkv"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration={SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
        *X264, *AAC, "-shortest", "-f", "matroska", str(path),
    )  # fmt: skip
    return path


def executions(stack: LocalStack) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    arn = stack.state_machines["TranscodeStateMachine"]
    found: list[dict[str, Any]] = sfn.list_executions(stateMachineArn=arn)["executions"]
    return found


def start(stack: LocalStack, clip: Path, user: str = "alice") -> tuple[str, list[dict[str, Any]]]:
    media_id = upload(stack, user, clip.name, "video/x-matroska", clip.read_bytes())
    messages = queued_messages(stack, "AvQueue", 1)
    assert deliver(stack, "AvQueue", "AvFunction", messages) == {"batchItemFailures": []}
    return media_id, messages


@pytest.fixture(scope="module")
def parallel(stack: LocalStack, clip: Path) -> dict[str, Any]:
    media_id, _ = start(stack, clip)
    return wait_settled(stack, "alice", media_id, timeout=300)


def test_the_long_video_takes_the_workflow_and_is_ready(stack: LocalStack, parallel: dict[str, Any]):
    assert parallel["status"] == "ready", parallel
    transcode = parallel["metadata"]["transcode"]
    assert transcode["mode"] == "parallel"
    assert transcode["segments"] == 3 and transcode["fan_out"] == "inline"
    assert set(transcode["timings"]) >= {
        "plan_s",
        "segments_total_s",
        "segment_max_s",
        "audio_s",
        "assemble_s",
    }
    # One execution, named by the run (its ARN recorded), and it succeeded
    [execution] = [e for e in executions(stack) if e["executionArn"] == transcode["execution_arn"]]
    assert execution["status"] == "SUCCEEDED"
    # And no scratch object of the run is left
    assert not [k for k in media_objects(stack, parallel["media_id"]) if "/.work/" in k]


def test_the_stitched_outputs_match_the_source_frames_and_duration(
    stack: LocalStack, parallel: dict[str, Any], clip: Path, tmp_path: Path
):
    source_frames = count_video_frames(clip)
    assert source_frames == SECONDS * FPS
    source = probe(str(clip))
    # The MP4 made by stream copy of the segments: every frame, the duration within one frame
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(download(parallel["variants"]["mp4"]["url"]))
    info = probe(str(mp4), ("mov",))
    assert count_video_frames(mp4) == source_frames
    assert info.duration_s == pytest.approx(source.duration_s, abs=1 / FPS)
    assert info.audio is not None
    # And every rung of the HLS ladder, fetched through the signed route
    headers = bearer(stack, "alice")
    master_url = parallel["streaming"]["hls"]
    master = m3u8.loads(requests.get(master_url, headers=headers, timeout=30).text)
    assert [p.stream_info.resolution for p in master.playlists] == [(320, 240), (192, 144)]
    for variant in master.playlists:
        playlist = m3u8.loads(
            requests.get(urljoin(master_url, variant.uri), headers=headers, timeout=30).text
        )
        assert len(playlist.segments) == 3
        assert sum(s.duration for s in playlist.segments) == pytest.approx(SECONDS, abs=1 / FPS)
        joined = tmp_path / f"{variant.stream_info.resolution[1]}.mp4"
        with joined.open("wb") as out:
            out.write(download(playlist.segment_map[0].uri))
            for segment in playlist.segments:
                out.write(download(segment.uri))
        assert count_video_frames(joined) == source_frames
        assert variant.stream_info.bandwidth >= variant.stream_info.average_bandwidth


def test_a_segment_failing_every_attempt_fails_the_record_and_leaves_nothing(stack: LocalStack, clip: Path):
    # Given the segment worker fails on segment 1, on every attempt
    function = stack.functions["TranscodeSegmentFunction"]
    real = function._handler
    attempts: list[int] = []
    lock = threading.Lock()

    def broken(event: dict[str, Any], context: Any) -> Any:
        if event["task"]["first"] == 1:
            with lock:
                attempts.append(1)
            raise RuntimeError("simulated worker crash")
        return real(event, context)

    function._handler = broken
    try:
        media_id, _ = start(stack, clip)
        body = wait_settled(stack, "alice", media_id, timeout=300)
    finally:
        function._handler = real
    # Then the record is failed with a reason naming the segment
    assert body["status"] == "failed", body
    assert "segment 1" in body["failure_reason"], body["failure_reason"]
    assert "simulated worker crash" in body["failure_reason"]
    # after the Task's own retries (1 + MaxAttempts 2)
    assert len(attempts) == 3
    # And no object of the run is left (segments of the other tasks included), nothing `processing`
    assert media_objects(stack, media_id) == []
    assert record(stack, media_id)["variants"] == {}
    # but the pinned copy of the version it failed on is kept and named: a reprocess reads it
    stored = media_repository(stack.tables["MediaTable"]).get(media_id)
    assert stored is not None and stored.original.stored_key is not None
    s3, uploads = stack.client("s3"), stack.buckets["UploadsBucket"]
    head = s3.head_object(Bucket=uploads, Key=stored.original.stored_key)
    assert head["ContentLength"] == clip.stat().st_size
    [execution] = [e for e in executions(stack) if media_id in _input(stack, e)]
    assert execution["status"] == "FAILED"


def _input(stack: LocalStack, execution: dict[str, Any]) -> str:
    described = stack.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    return str(described["input"])


def test_duplicate_s3_events_start_one_workflow_run(stack: LocalStack, clip: Path):
    before = len(executions(stack))
    # Given one upload whose S3 event arrives twice
    media_id, messages = start(stack, clip)
    assert deliver(stack, "AvQueue", "AvFunction", messages) == {"batchItemFailures": []}
    # Then one execution was started for it
    started = [e for e in executions(stack) if media_id in _input(stack, e)]
    assert len(started) == 1 and len(executions(stack)) == before + 1
    # And starting it again under the run's name changes nothing (same name and input: same execution)
    sfn = stack.client("stepfunctions")
    described = sfn.describe_execution(executionArn=started[0]["executionArn"])
    again = sfn.start_execution(
        stateMachineArn=stack.state_machines["TranscodeStateMachine"],
        name=started[0]["name"],
        input=described["input"],
    )
    assert again["executionArn"] == started[0]["executionArn"]
    assert len(executions(stack)) == before + 1
    body = wait_settled(stack, "alice", media_id, timeout=300)
    assert body["status"] == "ready", body


# -- the reaper knows workflow runs ------------------------------------------------------------------
class Running:
    """An execution that is still running (the real one ends in seconds here)."""

    def start(self, name: str, payload: dict[str, Any]) -> str:
        raise AssertionError("the reaper never starts executions")

    def status(self, execution_arn: str) -> str | None:
        return "RUNNING"


def handed_off(stack: LocalStack, execution_arn: str) -> MediaRecord:
    media_id = start_upload(stack, "erin", "long.mp4", "video/mp4", 1000)["media_id"]
    repository = media_repository(stack.tables["MediaTable"])
    record = repository.get(media_id)
    assert record is not None
    record = repository.transition(
        record,
        Transition(
            Status.PROCESSING,
            changes={
                "run_id": "run1",
                "metadata": {"transcode": {"mode": "parallel", "execution_arn": execution_arn}},
            },
        ),
    )
    key = f"media/{record.owner}/{media_id}/run1/hls/240p/seg_00000.m4s"
    stack.client("s3").put_object(Bucket=stack.buckets["MediaBucket"], Key=key, Body=b"half")
    return record


def reaper(stack: LocalStack, workflows: Any) -> Reaper:
    settings = reaper_settings()
    table = settings.table_name
    return Reaper(
        media_repository(table), StatusIndex(dynamodb_table(table)), object_store(), settings.media_bucket,
        settings.stuck_after(), uploads_bucket=settings.uploads_bucket, workflows=workflows,
    )  # fmt: skip


def test_the_reaper_leaves_a_running_workflow_alone_however_old(stack: LocalStack):
    record = handed_off(
        stack,
        f"{stack.state_machines['TranscodeStateMachine']}:run1".replace(":stateMachine:", ":execution:"),
    )
    report = reaper(stack, Running()).run(now=utc_now() + timedelta(days=1))
    assert record.media_id not in report.failed
    stored = media_repository(stack.tables["MediaTable"]).get(record.media_id)
    assert stored is not None and stored.status == Status.PROCESSING


def test_the_reaper_fails_a_run_whose_execution_ended_without_settling(
    stack: LocalStack, parallel: dict[str, Any]
):
    # Given records whose executions ended (SUCCEEDED: a lost settle) or never existed
    finished = parallel["metadata"]["transcode"]["execution_arn"]
    sfn_runs = StepFunctionsRuns(stack.client("stepfunctions"), stack.state_machines["TranscodeStateMachine"])
    ended = handed_off(stack, finished)
    missing = handed_off(stack, finished.rsplit(":", 1)[0] + ":nosuchrun000")
    # When the reaper runs past the shortest limit
    report = reaper(stack, sfn_runs).run(now=utc_now() + timedelta(minutes=9))
    # Then both are failed with the workflow's end as the reason, their run's objects removed
    for reaped, why in ((ended, "ended SUCCEEDED"), (missing, "does not exist")):
        assert reaped.media_id in report.failed
        stored = media_repository(stack.tables["MediaTable"]).get(reaped.media_id)
        assert stored is not None and stored.status == Status.FAILED
        assert stored.failure_reason is not None and why in stored.failure_reason
        assert media_objects(stack, reaped.media_id) == []


def test_a_container_longer_than_its_video_stream_still_stitches(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given a Matroska file whose container duration is a frame longer than its video (the audio
    # ends later), and whose video stream does not state its own length (as files from other
    # muxers do; ffmpeg's own DURATION tag is hidden here): the plan, from the container's
    # duration, has a last segment holding a frame the stream does not have
    monkeypatch.setattr(av_probe, "_stream_duration", lambda stream: None)
    path = tmp_path / "tail.mkv"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=36",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=36",
        *X264, *AAC, "-shortest", "-f", "matroska", str(path),
    )  # fmt: skip
    info = probe(str(path))
    assert round(info.duration_s * 25) > count_video_frames(path) == 900
    media_id, _ = start(stack, path)
    body = wait_settled(stack, "alice", media_id, timeout=300)
    # Then the record is ready with the segments the stream really has, every frame in the MP4
    assert body["status"] == "ready", body
    assert body["metadata"]["transcode"]["segments"] == 6
    mp4 = tmp_path / "tail.mp4"
    mp4.write_bytes(download(body["variants"]["mp4"]["url"]))
    assert count_video_frames(mp4) == 900


def test_a_plan_from_a_stale_read_keeps_what_the_hand_off_wrote_in_dynamodb(stack: LocalStack):
    # Given a run whose plan step read the record before the hand-off's write (its execution runs
    # as soon as it starts, so the step can be first), in the emulated table
    media_id = start_upload(stack, "ivan", "race.mp4", "video/mp4", 1000)["media_id"]
    repository = media_repository(stack.tables["MediaTable"])
    stale = repository.get(media_id)
    assert stale is not None
    stale = repository.transition(stale, Transition(Status.PROCESSING, changes={"run_id": "run-race"}))
    handed_off = {"transcode": {"execution_arn": "arn:exec", "previous_original": "old"}}
    repository.transition(
        stale,
        Transition(Status.PROCESSING, changes={"metadata": handed_off}, guard=RecordGuard(run_id="run-race")),
    )
    # Then DynamoDB refuses a write conditional on the version that step read
    with pytest.raises(InvalidTransition):
        repository.transition(
            stale,
            Transition(Status.PROCESSING, changes={"metadata": {}}, guard=RecordGuard(version=stale.version)),
        )
    # And the step's progress is merged into what the hand-off wrote
    processing_pipeline().update_run(stale, {"segments": 3})
    stored = repository.get(media_id)
    assert stored is not None
    assert stored.metadata["transcode"] == {
        "execution_arn": "arn:exec",
        "previous_original": "old",
        "segments": 3,
    }
