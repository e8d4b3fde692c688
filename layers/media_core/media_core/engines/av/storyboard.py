"""Storyboard: a JPEG sprite sheet of small frames every few seconds + a WebVTT file whose cues
point at each tile (`sprite.jpg#xywh=x,y,w,h`), as players' seek-bar previews expect.

The interval is the smallest "nice" step giving at most `max_tiles` tiles. One ffmpeg process:
`fps=1/interval` picks the frames, `scale` shrinks them, `tile` lays them out, mjpeg writes the sheet
(this ffmpeg has no png/webp encoders). `keyframes_only` decodes only keyframes (`-skip_frame
nokey`): with our own 2 s-GOP MP4 as the input that is ~50x less decoding and tiles are at most one
GOP off; use it for long files.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from media_core.domain.errors import MediaRejected
from media_core.engines.av import runner
from media_core.engines.av.layout import SPRITE_NAME, STORYBOARD_DIR, VTT_NAME

TILE_WIDTH = 160
MAX_TILES = 100
COLUMNS = 10
NICE_INTERVALS_S = (1, 2, 3, 4, 5, 6, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
STORYBOARD_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class StoryboardPlan:
    interval_s: float
    tiles: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    duration_s: float

    @property
    def sheet_size(self) -> tuple[int, int]:
        return self.columns * self.tile_width, self.rows * self.tile_height


@dataclass(frozen=True, slots=True)
class Storyboard:
    sprite: Path
    vtt: Path
    plan: StoryboardPlan
    width: int
    height: int


def choose_interval(duration_s: float, max_tiles: int = MAX_TILES) -> float:
    for step in NICE_INTERVALS_S:
        if math.ceil(duration_s / step) <= max_tiles:
            return float(step)
    return float(math.ceil(duration_s / max_tiles))


def plan_storyboard(
    duration_s: float,
    width: int,
    height: int,
    *,
    tile_width: int = TILE_WIDTH,
    max_tiles: int = MAX_TILES,
    columns: int = COLUMNS,
) -> StoryboardPlan:
    """Grid for a `width`x`height` (displayed) video of `duration_s`."""
    if duration_s <= 0 or width < 2 or height < 2:
        raise MediaRejected("no video to make a storyboard from")
    interval = choose_interval(duration_s, max_tiles)
    tiles = max(1, math.ceil(duration_s / interval - 1e-6))
    tw = min(tile_width, width // 2 * 2)
    th = max(2, round(tw * height / width / 2) * 2)
    cols = min(columns, tiles)
    return StoryboardPlan(interval, tiles, cols, math.ceil(tiles / cols), tw, th, duration_s)


def storyboard_command(
    source: str, plan: StoryboardPlan, out: Path, *, keyframes_only: bool = False
) -> list[str]:
    args = runner.ffmpeg_head()
    if keyframes_only:
        args += ["-skip_frame", "nokey"]
    args += [*runner.input_args(source, runner.VIDEO_DEMUXERS), "-i", source, "-map", "0:v:0", "-an", "-sn"]
    # Frame i is the one nearest to i*interval; pad with black when the file ends early.
    chain = (
        f"fps=1/{plan.interval_s:g}:round=down,scale={plan.tile_width}:{plan.tile_height}:flags=bicubic,"
        f"setsar=1,tile={plan.columns}x{plan.rows}"
    )
    args += ["-vf", chain, "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "4", "-color_range", "pc"]
    args += ["-f", "image2", "-update", "1", str(out)]
    return args


def format_timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def render_vtt(plan: StoryboardPlan, sprite_uri: str = SPRITE_NAME) -> str:
    """Cues back to back from 0 to the duration, one per tile, row-major."""
    lines = ["WEBVTT", ""]
    for i in range(plan.tiles):
        start = i * plan.interval_s
        end = min((i + 1) * plan.interval_s, plan.duration_s)
        if i == plan.tiles - 1:
            end = plan.duration_s
        x, y = (i % plan.columns) * plan.tile_width, (i // plan.columns) * plan.tile_height
        lines += [
            f"{format_timestamp(start)} --> {format_timestamp(end)}",
            f"{sprite_uri}#xywh={x},{y},{plan.tile_width},{plan.tile_height}",
            "",
        ]
    return "\n".join(lines)


def make_storyboard(
    source: str,
    duration_s: float,
    width: int,
    height: int,
    out_dir: Path,
    *,
    keyframes_only: bool = False,
    tile_width: int = TILE_WIDTH,
    max_tiles: int = MAX_TILES,
    timeout_s: float = STORYBOARD_TIMEOUT_S,
) -> Storyboard:
    """Write `storyboard/sprite.jpg` and `storyboard/storyboard.vtt` under `out_dir`."""
    plan = plan_storyboard(duration_s, width, height, tile_width=tile_width, max_tiles=max_tiles)
    directory = Path(out_dir) / STORYBOARD_DIR
    directory.mkdir(parents=True, exist_ok=True)
    sprite, vtt = directory / SPRITE_NAME, directory / VTT_NAME
    partial = directory / f".partial.{SPRITE_NAME}"

    def check(path: Path) -> tuple[int, int]:
        try:
            with Image.open(io.BytesIO(path.read_bytes()), formats=["JPEG"]) as img:
                size: tuple[int, int] = img.size
        except OSError as exc:
            raise MediaRejected("no decodable video frame for the storyboard") from exc
        if size != plan.sheet_size:
            raise MediaRejected(f"storyboard came out {size}, expected {plan.sheet_size}")
        return size

    args = storyboard_command(source, plan, partial, keyframes_only=keyframes_only)
    w, h = runner.run_to_file(
        args,
        partial,
        sprite,
        check,
        source=source,
        demuxers=runner.VIDEO_DEMUXERS,
        timeout_s=timeout_s,
        timeout_reason="making the storyboard took too long",
    )
    vtt.write_text(render_vtt(plan))
    return Storyboard(sprite, vtt, plan, w, h)
