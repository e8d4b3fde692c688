"""Video and audio domain logic (ffmpeg/ffprobe). Pure: no AWS, no event shapes.

Entry points for a processor handler live in `media_core.engines.av.av_job`:
`process_video(source, workdir, ...)` and `process_audio(source, workdir, ...)`. `source` is a local
path or an http(s) URL (an S3 presigned GET in production): probing and the poster read it with
range requests instead of downloading it.

Bad input raises `media_core.domain.errors.MediaRejected` with a reason safe to show to users; a source that
cannot be read (network, 403/5xx) raises `SourceUnavailableError` (retry); a missing ffmpeg raises
`FfmpegNotFoundError` (a deployment error).
"""

from media_core.engines.av.binaries import FfmpegBinaries, FfmpegNotFoundError, find_binaries
from media_core.engines.av.runner import SourceUnavailableError

__all__ = ["FfmpegBinaries", "FfmpegNotFoundError", "SourceUnavailableError", "find_binaries"]
