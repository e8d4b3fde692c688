"""The steps of the segment-parallel transcode (statemachines/transcode.asl.json), each a Lambda:

    plan      probe the pinned original by presigned URL, plan segments, record the plan
    segment   one task: its segments for every rung, straight to the run's prefix in the media bucket
    audio     the whole audio once, as its own rendition
    assemble  playlists, MP4 (stream copy of the top rung + audio, +faststart), poster, storyboard;
              settles the record ready through the pipeline's conditional finish
    fail      (the Catch of every step) settles the record failed with a reason naming the step or
              segment, and removes every object of the run

Payloads stay small (a Step Functions state holds 256 KB): the plan travels as `HlsPlan.to_dict()`
(no per-segment list), each worker's full answer is written to `{run}/.work/` in the media bucket
and read back by the assembler; the state only carries first/elapsed per task.

Every step first checks that the record is still `processing` for its run (a newer upload or a
delete supersedes it): a superseded run stops and removes what it wrote.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from media_core.domain.errors import MediaRejected, redact
from media_core.domain.keys import media_prefix
from media_core.domain.models import MediaRecord
from media_core.domain.transfers import UrlTarget
from media_core.engines.av import runner
from media_core.engines.av.assemble import assemble
from media_core.engines.av.audio_hls import AudioRendition, encode_audio
from media_core.engines.av.encode import TaskResult, encode_task
from media_core.engines.av.ladder import Rung, mp4_rendition
from media_core.engines.av.layout import AUDIO_NAME, HLS_DIR, INIT_NAME, WORK_DIR, Layout, segment_name
from media_core.engines.av.limits import TranscodeOptions, VideoLimits, check_video
from media_core.engines.av.plan import HlsPlan, plan_hls
from media_core.engines.av.poster import extract_poster
from media_core.engines.av.probe import probe
from media_core.engines.av.segments import Task
from media_core.ports import ObjectStorage
from media_core.processing.lifecycle import Outcome, ProcessingPipeline
from media_core.processing.streaming import (
    HLS_CONTENT_TYPE,
    put_tree,
    store_mp4,
    store_poster,
    store_storyboard,
    storyboard_metadata,
    storyboard_of,
)
from media_core.processing.variants import VariantWriter
from media_core.processing.work import WorkResult

logger = Logger(child=True)

INLINE_MAP_MAX = 40  # Step Functions runs at most 40 inline Map iterations at once
URL_TTL_S = 3 * 3600


class SegmentFailed(Exception):
    """A segment task failed (retried by the state machine); the message names the segment."""


class SegmentRejected(Exception):
    """The source cannot be encoded in this range (bad input): not retried."""


class AudioFailed(Exception):
    """The audio task failed (retried by the state machine)."""


class SourceUnavailable(Exception):
    """The original could not be read (retried)."""


class RunSuperseded(Exception):
    """The record no longer belongs to this run: stop (the fail step removes the run's objects)."""


@dataclass(frozen=True)
class Job:
    media_id: str
    run_id: str
    owner: str
    bucket: str
    key: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(*(str(data[k]) for k in ("media_id", "run_id", "owner", "bucket", "key")))

    def to_dict(self) -> dict[str, str]:
        return {
            "media_id": self.media_id,
            "run_id": self.run_id,
            "owner": self.owner,
            "bucket": self.bucket,
            "key": self.key,
        }

    @property
    def prefix(self) -> str:
        """The run's prefix in the media bucket."""
        return f"{media_prefix(self.owner, self.media_id)}{self.run_id}/"


_SEGMENT_CAUSE = re.compile(r"^segment (\d+): (.*)$", re.DOTALL)


def _error_message(cause: str) -> str:
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        return cause
    return str(parsed.get("errorMessage") or "") if isinstance(parsed, dict) else cause


def failure_reason(failed: dict[str, Any]) -> str:
    """A readable reason from a Catch's `{Error, Cause}`. Cause is the Lambda error JSON, or, from a
    segment's Fail state, "segment N: <the Lambda error JSON>" (so a worker that crashed without
    naming its segment is still named)."""
    error = failed.get("error") or {}
    name = str(error.get("Error") or "States.Unknown")
    cause = error.get("Cause")
    message, segment = "", None
    if isinstance(cause, str):
        match = _SEGMENT_CAUSE.match(cause)
        if match:
            segment, cause = int(match.group(1)), match.group(2)
        message = _error_message(cause)
    if segment is not None and not message.startswith(("segment ", "segments ")):
        message = f"segment {segment}: {message}" if message else f"segment {segment}"
    if name in ("MediaRejected", "SegmentRejected"):
        return redact(message)[:500]
    detail = f"{name}: {message}" if message else name
    return redact(f"parallel transcode failed: {detail}")[:500]


@dataclass
class TranscodeWorkflow:
    pipeline: ProcessingPipeline
    limits: VideoLimits
    transcode: TranscodeOptions
    ladder: tuple[Rung, ...]
    max_concurrency: int = 100
    work_dir: str = "/tmp"  # noqa: S108 - Lambda's only writable path

    @property
    def store(self) -> ObjectStorage:
        return self.pipeline.store

    @property
    def media_bucket(self) -> str:
        return self.pipeline.settings.media_bucket

    def _source(self, job: Job) -> str:
        return self.store.presigned_get(UrlTarget(job.bucket, job.key), expires_in=URL_TTL_S)

    def _owned(self, job: Job) -> MediaRecord:
        record = self.pipeline.current_run(job.media_id, job.run_id)
        if record is None:
            raise RunSuperseded(f"media {job.media_id} is no longer processing run {job.run_id}")
        return record

    def _work_key(self, job: Job, name: str) -> str:
        return f"{job.prefix}{WORK_DIR}/{name}.json"

    def _put_json(self, job: Job, name: str, data: dict[str, Any]) -> None:
        body = json.dumps(data, separators=(",", ":")).encode()
        self.store.put(self.media_bucket, self._work_key(job, name), body, content_type="application/json")

    def _get_json(self, job: Job, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.store.read(self.media_bucket, self._work_key(job, name)))
        return data

    def _writer(self, job: Job) -> VariantWriter:
        return VariantWriter(self.store, self.media_bucket, job.owner, job.media_id, job.run_id)

    def _scratch(self) -> tempfile.TemporaryDirectory[str]:
        return tempfile.TemporaryDirectory(prefix="transcode-", dir=self.work_dir)

    # ------------------------------------------------------------------ plan
    def plan(self, event: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        job = Job.from_dict(event)
        claimed = self._owned(job)
        try:
            info = probe(self._source(job), runner.VIDEO_DEMUXERS)
        except runner.SourceUnavailableError as err:
            raise SourceUnavailable(str(err)) from err
        check_video(info, self.limits)
        plan = plan_hls(info, self.ladder, self.transcode)
        tasks = [{"first": t.first, "count": t.count} for t in plan.tasks()]
        plan_s = time.perf_counter() - started
        progress = {
            "mode": "parallel",
            "segments": len(plan.segments.segments),
            "renditions": [r.name for r in plan.renditions],
            "fan_out": "inline" if len(tasks) <= INLINE_MAP_MAX else "distributed",
        }
        self.pipeline.update_run(claimed, progress)
        logger.info("planned", media_id=job.media_id, segments=len(tasks), renditions=len(plan.renditions))
        return {
            "job": job.to_dict(),
            "plan": plan.to_dict(),
            "tasks": tasks,
            "inline": len(tasks) <= INLINE_MAP_MAX,
            "max_concurrency": self.max_concurrency,
            "plan_s": round(plan_s, 3),
        }

    # ------------------------------------------------------------------ segment
    def segment(self, event: dict[str, Any], remaining_s: Callable[[], float]) -> dict[str, Any]:
        job = Job.from_dict(event["job"])
        plan = HlsPlan.from_dict(event["plan"])
        task = Task(int(event["task"]["first"]), int(event["task"]["count"]))
        segs = plan.segments.segments[task.first : task.first + task.count]
        if not segs:
            raise SegmentFailed(
                f"segment {task.first}: outside the plan's {len(plan.segments.segments)} segments"
            )
        span = (
            f"segment {task.first}"
            if task.count == 1
            else f"segments {task.first}-{task.first + task.count - 1}"
        )
        where = f"{span} ({plan.segments.start_s(segs[0]):.1f} s to "
        where += f"{plan.segments.start_s(segs[-1]) + plan.segments.duration_s(segs[-1]):.1f} s)"
        self._owned(job)
        try:
            with self._scratch() as scratch:
                out = Path(scratch)
                result = encode_task(
                    self._source(job), plan, task, out, self.transcode, timeout_s=max(1.0, remaining_s() - 15)
                )
                put_tree(self._writer(job), out, HLS_DIR)
        except MediaRejected as err:
            if self._ended_early(plan, task):
                # The container said a little more than the stream has (a frame or two): the last
                # range is empty, as the single path's "ran out" case. The assembler drops it.
                self._put_json(job, f"task_{task.first:05d}", {"empty": True})
                logger.info("last segment empty: the stream ended early", media_id=job.media_id)
                return {"first": task.first, "count": task.count, "elapsed_s": 0.0, "empty": True}
            raise SegmentRejected(f"{where}: {err.message}") from err
        except RunSuperseded:
            raise
        except Exception as err:
            raise SegmentFailed(f"{where}: {type(err).__name__}: {err}") from err
        self._put_json(job, f"task_{task.first:05d}", result.to_dict())
        return {"first": task.first, "count": task.count, "elapsed_s": round(result.elapsed_s, 3)}

    @staticmethod
    def _ended_early(plan: HlsPlan, task: Task) -> bool:
        """The last task, one segment no longer than a GOP: the stream may just end before it."""
        segs = plan.segments.segments
        last = segs[-1]
        return task.first == last.index and task.count == 1 and last.frames <= plan.segments.gop_frames

    @staticmethod
    def _without_last_segment(plan: HlsPlan) -> HlsPlan:
        data = plan.to_dict()
        data["segments"] = {**data["segments"], "total_frames": plan.segments.segments[-1].start_frame}
        return HlsPlan.from_dict(data)

    # ------------------------------------------------------------------ audio
    def audio(self, event: dict[str, Any], remaining_s: Callable[[], float]) -> dict[str, Any]:
        job = Job.from_dict(event["job"])
        plan = HlsPlan.from_dict(event["plan"])
        self._owned(job)
        if plan.audio is None:
            return {"elapsed_s": 0.0, "segments": 0}
        try:
            with self._scratch() as scratch:
                out = Path(scratch)
                audio = encode_audio(
                    self._source(job), plan, out, self.transcode, timeout_s=max(1.0, remaining_s() - 15)
                )
                assert audio is not None
                put_tree(self._writer(job), out, HLS_DIR)
        except Exception as err:
            raise AudioFailed(f"audio: {type(err).__name__}: {err}") from err
        self._put_json(job, "audio", audio.to_dict())
        return {"elapsed_s": round(audio.elapsed_s, 3), "segments": len(audio.segments)}

    # ------------------------------------------------------------------ assemble
    def assemble(self, event: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        job = Job.from_dict(event["job"])
        plan = HlsPlan.from_dict(event["plan"])
        claimed = self._owned(job)
        tasks = plan.tasks()
        answers = [self._get_json(job, f"task_{t.first:05d}") for t in tasks]
        if answers and answers[-1].get("empty") and len(plan.segments.segments) > 1:
            plan, answers = self._without_last_segment(plan), answers[:-1]
        results = [TaskResult.from_dict(a) for a in answers]
        audio = AudioRendition.from_dict(self._get_json(job, "audio")) if plan.audio is not None else None
        writer = self._writer(job)
        source = self._source(job)
        with self._scratch() as scratch:
            out = Path(scratch)
            fetch_s = self._fetch_for_mp4(job, plan, results, audio, out)
            output = assemble(out, plan, results, audio, make_mp4=True)
            assert output.mp4 is not None
            layout = Layout(out)
            variants = {
                "hls": writer.put_file(
                    f"{HLS_DIR}/master",
                    layout.master,
                    content_type=HLS_CONTENT_TYPE,
                    extension="m3u8",
                    width=output.variants[0].width,
                    height=output.variants[0].height,
                    duration=round(output.duration_s, 3),
                )
            }
            for playlist in sorted(layout.hls.glob("*.m3u8")):
                if playlist.name != "master.m3u8":
                    writer.put_file(
                        f"{HLS_DIR}/{playlist.stem}",
                        playlist,
                        content_type=HLS_CONTENT_TYPE,
                        extension="m3u8",
                    )
            variants["mp4"] = store_mp4(writer, output.mp4, output)
            info = probe(source, runner.VIDEO_DEMUXERS)
            mark = time.perf_counter()
            poster = extract_poster(
                source, info, max_long=self.transcode.max_long, max_short=self.transcode.max_short
            )
            variants.update(store_poster(writer, poster.jpeg, poster.width, poster.height))
            poster_s = time.perf_counter() - mark
            mark = time.perf_counter()
            top = mp4_rendition(plan.renditions)
            board = storyboard_of(output.mp4, output.duration_s, top.width, top.height, out)
            variants.update(store_storyboard(writer, board))
            storyboard_s = time.perf_counter() - mark
        self.store.delete_prefix(self.media_bucket, f"{job.prefix}{WORK_DIR}/")
        segment_times = [r.elapsed_s for r in results]
        timings = {
            "plan_s": float(event.get("plan_s") or 0.0),
            "segments_total_s": round(sum(segment_times), 3),
            "segment_max_s": round(max(segment_times), 3),
            "audio_s": round(audio.elapsed_s, 3) if audio is not None else 0.0,
            "fetch_s": round(fetch_s, 3),
            "assemble_s": round(output.elapsed_s, 3),
            "poster_s": round(poster_s, 3),
            "storyboard_s": round(storyboard_s, 3),
            "finish_s": round(time.perf_counter() - started, 3),
        }
        metadata = info.to_metadata()
        transcode = dict(claimed.metadata.get("transcode") or {})
        transcode.update(
            {
                "mode": "parallel",
                "segments": len(plan.segments.segments),
                "tasks": len(tasks),
                "preset": self.transcode.preset,
                "crf": self.transcode.crf,
                "timings": {**dict(transcode.get("timings") or {}), **timings},
            }
        )
        metadata["transcode"] = transcode
        metadata.update(output.to_metadata())
        metadata["poster"] = {"width": poster.width, "height": poster.height, "at_s": round(poster.at_s, 3)}
        metadata["storyboard"] = storyboard_metadata(board)
        before = _before_hand_off(claimed)
        transcode.pop("previous_original", None)
        result = self.pipeline.finish(claimed, WorkResult(variants, metadata), writer, before=before)
        return {"outcome": result.outcome.value, "detail": result.detail}

    def _fetch_for_mp4(
        self,
        job: Job,
        plan: HlsPlan,
        results: list[TaskResult],
        audio: AudioRendition | None,
        out: Path,
    ) -> float:
        """The top rung's init + segments and the audio segments, for the MP4's stream copy."""
        started = time.perf_counter()
        layout = Layout(out)
        top = mp4_rendition(plan.renditions)
        names = [f"{top.name}/{INIT_NAME}"]
        for result in results:
            for part in result.renditions:
                if part.name == top.name:
                    names += [f"{top.name}/{segment_name(s.index)}" for s in part.segments]
        if audio is not None:
            names += [f"{AUDIO_NAME}/{INIT_NAME}", *(f"{AUDIO_NAME}/{s.uri}" for s in audio.segments)]
        for name in names:
            path = layout.hls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.store.read(self.media_bucket, f"{job.prefix}{HLS_DIR}/{name}"))
        return time.perf_counter() - started

    # ------------------------------------------------------------------ fail
    def fail(self, event: dict[str, Any]) -> dict[str, Any]:
        failed = dict(event["failed"])
        job = Job.from_dict(failed.get("job") or failed)
        reason = failure_reason(failed)
        record = self.pipeline.current_run(job.media_id, job.run_id)
        # Whatever the record says now, this run's objects go.
        self.store.delete_prefix(self.media_bucket, job.prefix)
        if record is None:
            logger.info("run superseded; objects removed", media_id=job.media_id, run_id=job.run_id)
            return {"outcome": Outcome.SUPERSEDED.value, "reason": reason}
        result = self.pipeline.fail_run(record, reason, before=_before_hand_off(record))
        return {"outcome": result.outcome.value, "reason": reason}


def _before_hand_off(claimed: MediaRecord) -> MediaRecord:
    """The record as the run's settling sees what it replaces: the pinned copy of the version
    before the claim, which the hand-off noted (`transcode.previous_original`)."""
    previous = (claimed.metadata.get("transcode") or {}).get("previous_original")
    original = claimed.original.model_copy(update={"stored_key": previous})
    return claimed.model_copy(update={"original": original})
