"""The video/audio processor's work: probe through a presigned URL, then one of three paths for a
video (the record's `metadata.transcode.mode`):

* `remux`: a compliant H.264/AAC MP4 shorter than the parallel threshold is remuxed with
  +faststart (no encode); poster sizes and the storyboard come with it, no HLS;
* `single`: the HLS ladder + the progressive MP4 (from the top rung's segments) + storyboard,
  in this function (engines/av/hls.package_hls, one task);
* `parallel`: videos at least `parallel_transcode_min_seconds` long, or too long for this
  function's time budget, start the segment-parallel Step Functions workflow, named by the run id
  (a duplicate start is refused), and the record stays `processing` until the workflow settles it.

The time budget refuses only what neither path can do (no workflow configured and too long).
Audio: probe, MP3 rendition, cover art, waveform."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from media_core.domain.errors import MediaRejected
from media_core.domain.models import Kind, Variant
from media_core.engines.av import runner
from media_core.engines.av.av_job import POSTER_ALLOWANCE_S, OutputFile, process_audio, process_video
from media_core.engines.av.budget import check_budget, estimate_transcode_s
from media_core.engines.av.hls import package_hls
from media_core.engines.av.ladder import Rung, choose_renditions, parse_ladder
from media_core.engines.av.limits import AudioLimits, AudioOptions, TranscodeOptions, VideoLimits, check_video
from media_core.engines.av.plan import plan_hls
from media_core.engines.av.poster import extract_poster, fit_within
from media_core.engines.av.probe import MediaInfo, probe
from media_core.engines.av.transcode import plan_transcode
from media_core.ports import WorkflowRuns
from media_core.processing.streaming import (
    store_hls,
    store_poster,
    store_storyboard,
    storyboard_metadata,
    storyboard_of,
)
from media_core.processing.variants import VariantWriter
from media_core.processing.work import WorkContext, WorkResult
from media_core.settings import AvSettings

STORYBOARD_ALLOWANCE_S = 5.0


def _store_output(writer: VariantWriter, name: str, output: OutputFile) -> Variant:
    extension = output.path.suffix.lstrip(".")
    return writer.put_file(
        name,
        output.path,
        content_type=output.content_type,
        extension=extension,
        width=output.width,
        height=output.height,
        duration=round(output.duration_s, 3),
    )


def ladder_estimate_s(info: MediaInfo, settings: TranscodeOptions, ladder: tuple[Rung, ...]) -> float:
    """Wall seconds of the single-pass HLS encode: the one-rendition estimate scaled by the
    ladder's pixels over the top rendition's (every rung is encoded from one decode)."""
    video = info.video
    if video is None:
        raise MediaRejected("no video stream found")
    encode_plan = plan_transcode(info, replace(settings, allow_stream_copy=False))
    one = estimate_transcode_s(info, settings, plan=encode_plan)
    renditions = choose_renditions(info, ladder)
    top_w, top_h = fit_within(video.width, video.height, settings.max_long, settings.max_short)
    pixels = sum(r.width * r.height for r in renditions)
    return one * max(1.0, pixels / max(1, top_w * top_h))


@dataclass
class AvWork:
    video_limits: VideoLimits
    transcode: TranscodeOptions
    audio_limits: AudioLimits
    audio: AudioOptions
    ladder: tuple[Rung, ...] = field(default_factory=lambda: parse_ladder("1080,720,480,360"))
    parallel_min_seconds: float = 600.0
    workflow: WorkflowRuns | None = None
    # Seconds kept back from the function's remaining time for uploads and bookkeeping.
    reserve_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: AvSettings, workflow: WorkflowRuns | None = None) -> AvWork:
        return cls(
            VideoLimits(
                max_width=settings.video_max_width,
                max_height=settings.video_max_height,
                max_duration_s=settings.video_max_duration_seconds,
            ),
            TranscodeOptions(preset=settings.video_preset, crf=settings.video_crf),
            AudioLimits(max_duration_s=settings.audio_max_duration_seconds),
            AudioOptions(),
            ladder=parse_ladder(settings.hls_ladder),
            parallel_min_seconds=settings.parallel_transcode_min_seconds,
            workflow=workflow,
        )

    def __call__(self, context: WorkContext) -> WorkResult:
        source = context.original_url()
        remaining = context.remaining_seconds()
        if context.record.kind == Kind.VIDEO:
            return self._video(context, source, remaining)
        audio = process_audio(
            source, context.workdir, self.audio_limits, self.audio, remaining, reserve_s=self.reserve_seconds
        )
        variants = {"mp3": _store_output(context.variants, "mp3", audio.outputs[0])}
        if audio.cover is not None:
            variants.update(
                {
                    k: v
                    for k, v in store_poster(
                        context.variants, audio.cover.jpeg, audio.cover.width, audio.cover.height, "cover_"
                    ).items()
                    if k != "poster"
                }
            )
        metadata = {**audio.metadata, "waveform": audio.waveform}
        return WorkResult(variants, metadata)

    # ------------------------------------------------------------------ video
    def _video(self, context: WorkContext, source: str, remaining: float) -> WorkResult:
        started = time.perf_counter()
        info = probe(source, runner.VIDEO_DEMUXERS)
        check_video(info, self.video_limits)
        probe_s = time.perf_counter() - started
        long_enough = info.duration_s >= self.parallel_min_seconds
        copy = plan_transcode(info, self.transcode).mode == "copy"
        if copy and not long_enough:
            return self._remux(context, source, remaining)
        estimate = ladder_estimate_s(info, self.transcode, self.ladder)
        needed = estimate + POSTER_ALLOWANCE_S + STORYBOARD_ALLOWANCE_S
        fits = needed + self.reserve_seconds <= remaining
        if self.workflow is not None and (long_enough or not fits):
            return self._start_workflow(context, info, estimate, probe_s)
        check_budget(needed, remaining, reserve_s=self.reserve_seconds)  # refuses: neither path can
        return self._single(context, source, info, remaining, estimate, probe_s, started)

    def _start_workflow(
        self, context: WorkContext, info: MediaInfo, estimate: float, probe_s: float
    ) -> WorkResult:
        assert self.workflow is not None
        record = context.record
        assert record.run_id is not None
        plan = plan_hls(info, self.ladder, self.transcode)
        arn = self.workflow.start(
            record.run_id,
            {
                "media_id": record.media_id,
                "run_id": record.run_id,
                "owner": record.owner,
                "bucket": context.bucket,
                "key": context.key,
            },
        )
        metadata = info.to_metadata()
        metadata["transcode"] = {
            "mode": "parallel",
            "segments": len(plan.segments.segments),
            "execution_arn": arn,
            "single_estimate_s": round(estimate, 1),
            "timings": {"probe_s": round(probe_s, 3)},
        }
        return WorkResult({}, metadata, handoff=arn)

    def _single(
        self,
        context: WorkContext,
        source: str,
        info: MediaInfo,
        remaining: float,
        estimate: float,
        probe_s: float,
        started: float,
    ) -> WorkResult:
        video = info.video
        assert video is not None
        timeout = max(1.0, remaining - (time.perf_counter() - started) - self.reserve_seconds / 2)
        out = context.workdir / "out"
        output = package_hls(source, info, out, self.ladder, self.transcode, timeout_s=timeout)
        assert output.mp4 is not None
        mark = time.perf_counter()
        poster = extract_poster(
            source, info, max_long=self.transcode.max_long, max_short=self.transcode.max_short
        )
        poster_s = time.perf_counter() - mark
        mark = time.perf_counter()
        top = max(output.variants, key=lambda v: min(v.width, v.height))
        board = storyboard_of(output.mp4, output.duration_s, top.width, top.height, out)
        storyboard_s = time.perf_counter() - mark
        mark = time.perf_counter()
        variants = store_hls(context.variants, out, output)
        variants.update(store_storyboard(context.variants, board))
        variants.update(store_poster(context.variants, poster.jpeg, poster.width, poster.height))
        upload_s = time.perf_counter() - mark
        metadata = info.to_metadata()
        timings = {
            "probe_s": probe_s,
            **output.timings,
            "poster_s": poster_s,
            "storyboard_s": storyboard_s,
            "upload_s": upload_s,
        }
        metadata["transcode"] = {
            "mode": "single",
            "segments": output.variants[0].segments,
            "preset": self.transcode.preset,
            "crf": self.transcode.crf,
            "estimate_s": round(estimate, 1),
            "elapsed_s": round(time.perf_counter() - started, 2),
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }
        metadata.update(output.to_metadata())
        metadata["poster"] = {"width": poster.width, "height": poster.height, "at_s": round(poster.at_s, 3)}
        metadata["storyboard"] = storyboard_metadata(board)
        return WorkResult(variants, metadata)

    def _remux(self, context: WorkContext, source: str, remaining: float) -> WorkResult:
        video = process_video(
            source,
            context.workdir,
            self.video_limits,
            self.transcode,
            remaining,
            reserve_s=self.reserve_seconds,
        )
        output = video.outputs[0]
        variants: dict[str, Variant] = {"mp4": _store_output(context.variants, "mp4", output)}
        variants.update(
            store_poster(context.variants, video.poster.jpeg, video.poster.width, video.poster.height)
        )
        metadata: dict[str, Any] = dict(video.metadata)
        mark = time.perf_counter()
        board = storyboard_of(
            output.path,
            output.duration_s,
            output.width or video.poster.width,
            output.height or video.poster.height,
            context.workdir / "out",
        )
        variants.update(store_storyboard(context.variants, board))
        transcode = dict(metadata.get("transcode") or {})
        transcode["mode"] = "remux" if video.transcode_mode == "copy" else "single"
        transcode["segments"] = 0
        transcode["timings"] = {
            **{k: round(v, 3) for k, v in video.timings.items()},
            "storyboard_s": round(time.perf_counter() - mark, 3),
        }
        metadata["transcode"] = transcode
        metadata["storyboard"] = storyboard_metadata(board)
        return WorkResult(variants, metadata)
