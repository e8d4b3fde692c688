"""The video/audio processor's work: probe through a presigned URL, poster or cover art, and the
MP4 / MP3 rendition streamed to the media bucket."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from media_core.domain.models import Kind, Variant
from media_core.engines.av.av_job import OutputFile, process_audio, process_video
from media_core.engines.av.limits import AudioLimits, AudioOptions, TranscodeOptions, VideoLimits
from media_core.engines.imaging.presets import POSTER_PRESETS
from media_core.engines.imaging.render import render_variants
from media_core.processing.rendered import store_rendered
from media_core.processing.variants import VariantWriter
from media_core.processing.work import WorkContext, WorkResult
from media_core.settings import AvSettings


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


def _jpeg_variants(writer: VariantWriter, jpeg: bytes, prefix: str) -> dict[str, Variant]:
    with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as picture:
        picture.load()
        return store_rendered(writer, render_variants(picture, POSTER_PRESETS), prefix=prefix)


@dataclass
class AvWork:
    video_limits: VideoLimits
    transcode: TranscodeOptions
    audio_limits: AudioLimits
    audio: AudioOptions
    # Seconds kept back from the function's remaining time for uploads and bookkeeping.
    reserve_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: AvSettings) -> AvWork:
        return cls(
            VideoLimits(
                max_width=settings.video_max_width,
                max_height=settings.video_max_height,
                max_duration_s=settings.video_max_duration_seconds,
            ),
            TranscodeOptions(preset=settings.video_preset, crf=settings.video_crf),
            AudioLimits(max_duration_s=settings.audio_max_duration_seconds),
            AudioOptions(),
        )

    def __call__(self, context: WorkContext) -> WorkResult:
        source = context.original_url()
        remaining = context.remaining_seconds()
        if context.record.kind == Kind.VIDEO:
            video = process_video(
                source,
                context.workdir,
                self.video_limits,
                self.transcode,
                remaining,
                reserve_s=self.reserve_seconds,
            )
            variants = {"mp4": _store_output(context.variants, "mp4", video.outputs[0])}
            variants["poster"] = context.variants.put_bytes(
                "poster",
                video.poster.jpeg,
                content_type="image/jpeg",
                extension="jpg",
                width=video.poster.width,
                height=video.poster.height,
            )
            variants.update(_jpeg_variants(context.variants, video.poster.jpeg, "poster_"))
            return WorkResult(variants, video.metadata)
        audio = process_audio(
            source, context.workdir, self.audio_limits, self.audio, remaining, reserve_s=self.reserve_seconds
        )
        variants = {"mp3": _store_output(context.variants, "mp3", audio.outputs[0])}
        if audio.cover is not None:
            variants.update(_jpeg_variants(context.variants, audio.cover.jpeg, "cover_"))
        metadata = {**audio.metadata, "waveform": audio.waveform}
        return WorkResult(variants, metadata)
