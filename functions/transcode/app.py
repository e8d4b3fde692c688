"""The segment-parallel transcode's steps (statemachines/transcode.asl.json), one handler per step.

One code folder, four functions (TranscodePlan/Segment/Audio/AssembleFunction in template.yaml):
each step gets its own memory, timeout and least-privilege policy, and the state machine may
invoke exactly these four. The Assemble function also runs the Catch step that fails the record.
Each handler returns a small JSON object (the state machine's payload); errors raise, named so
the state machine retries the right ones (SegmentFailed, AudioFailed, SourceUnavailable)."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from media_core.engines.av.ladder import parse_ladder
from media_core.engines.av.limits import TranscodeOptions, VideoLimits
from media_core.processing.transcode_workflow import TranscodeWorkflow
from media_core.settings import av_settings
from media_core.wiring import processing_pipeline

logger = Logger()
tracer = Tracer()
settings = av_settings()  # validated at cold start


@cache
def workflow() -> TranscodeWorkflow:
    return TranscodeWorkflow(
        processing_pipeline(),
        VideoLimits(
            max_width=settings.video_max_width,
            max_height=settings.video_max_height,
            max_duration_s=settings.video_max_duration_seconds,
        ),
        TranscodeOptions(preset=settings.video_preset, crf=settings.video_crf),
        parse_ladder(settings.hls_ladder),
        max_concurrency=settings.transcode_max_concurrency,
        work_dir=settings.work_dir,
    )


def _remaining(context: LambdaContext) -> Any:
    return lambda: context.get_remaining_time_in_millis() / 1000.0


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def plan_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return workflow().plan(event)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def segment_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return workflow().segment(event, _remaining(context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def audio_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return workflow().audio(event, _remaining(context))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def assemble_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Assemble, or (the state machine's Catch) `{"failed": state}`: settle the record failed."""
    if "failed" in event:
        return workflow().fail(event)
    return workflow().assemble(event)
