"""Storing the streaming outputs of a video run (the HLS tree, the MP4, the storyboard) and the
variants and metadata that describe them. Shared by the single-function path (av_work.py) and the
segment-parallel workflow (transcode_workflow.py), so both store the same layout:

    media/{owner}/{media_id}/{run_id}/hls/master.m3u8, hls/{rung}.m3u8, hls/{rung}/init.mp4, ...
    media/{owner}/{media_id}/{run_id}/mp4.mp4                  the progressive MP4
    media/{owner}/{media_id}/{run_id}/storyboard/storyboard.vtt, storyboard/sprite.jpg

Variants: `hls` (the master playlist), `mp4`, `storyboard` (the VTT), `storyboard_sprite`; every
other file of the tree is written through the same VariantWriter (so a failed run takes it back)
but is not a variant: the playlists name it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from media_core.domain.models import Variant
from media_core.engines.av.assemble import HlsOutput
from media_core.engines.av.ladder import mp4_rendition
from media_core.engines.av.layout import HLS_DIR, STORYBOARD_DIR, content_type
from media_core.engines.av.segments import DEFAULT_GOP_S
from media_core.engines.av.storyboard import Storyboard, choose_interval, make_storyboard
from media_core.engines.imaging.presets import POSTER_PRESETS
from media_core.engines.imaging.render import render_variants
from media_core.processing.rendered import store_rendered
from media_core.processing.variants import VariantWriter

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"


def _name_and_extension(relative: Path) -> tuple[str, str]:
    return str(relative.with_suffix("")), relative.suffix.lstrip(".")


def put_tree(writer: VariantWriter, root: Path, directory: str) -> dict[str, Variant]:
    """Upload every file under `root/directory` keeping its relative path; returns them by path."""
    stored: dict[str, Variant] = {}
    base = root / directory
    if not base.is_dir():
        return stored
    for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(root)
        name, extension = _name_and_extension(relative)
        stored[str(relative)] = writer.put_file(
            name, path, content_type=content_type(path), extension=extension
        )
    return stored


def store_hls(writer: VariantWriter, root: Path, output: HlsOutput) -> dict[str, Variant]:
    """The HLS tree under `root` (already complete) and the MP4; returns the variants."""
    files = put_tree(writer, root, HLS_DIR)
    master = files[f"{HLS_DIR}/master.m3u8"]
    top = max(output.variants, key=lambda v: min(v.width, v.height))
    variants = {
        "hls": master.model_copy(
            update={"width": top.width, "height": top.height, "duration": round(output.duration_s, 3)}
        )
    }
    if output.mp4 is not None:
        variants["mp4"] = store_mp4(writer, output.mp4, output)
    return variants


def store_mp4(writer: VariantWriter, mp4: Path, output: HlsOutput) -> Variant:
    """The progressive MP4 (`output.mp4`), sized as the variant it was made from."""
    top = mp4_rendition(output.variants)
    return writer.put_file(
        "mp4",
        mp4,
        content_type="video/mp4",
        extension="mp4",
        width=top.width,
        height=top.height,
        duration=round(output.duration_s, 3),
    )


def keyframes_only(duration_s: float) -> bool:
    """Decode only keyframes for the storyboard when its tiles are at least a GOP apart (long files:
    ~50x less decoding); short clips decode every frame (a tile per second needs them)."""
    return choose_interval(duration_s) >= DEFAULT_GOP_S


def storyboard_of(video: Path, duration_s: float, width: int, height: int, out_dir: Path) -> Storyboard:
    """The storyboard of a finished rendition (`video`, `width` x `height`) under `out_dir`."""
    return make_storyboard(
        str(video), duration_s, width, height, out_dir, keyframes_only=keyframes_only(duration_s)
    )


def store_storyboard(writer: VariantWriter, board: Storyboard) -> dict[str, Variant]:
    vtt_name, _ = _name_and_extension(Path(STORYBOARD_DIR) / board.vtt.name)
    sprite_name, _ = _name_and_extension(Path(STORYBOARD_DIR) / board.sprite.name)
    return {
        "storyboard": writer.put_file(vtt_name, board.vtt, content_type="text/vtt", extension="vtt"),
        "storyboard_sprite": writer.put_file(
            sprite_name,
            board.sprite,
            content_type="image/jpeg",
            extension="jpg",
            width=board.width,
            height=board.height,
        ),
    }


def storyboard_metadata(board: Storyboard) -> dict[str, Any]:
    plan = board.plan
    return {
        "interval_s": plan.interval_s,
        "tiles": plan.tiles,
        "columns": plan.columns,
        "tile_width": plan.tile_width,
        "tile_height": plan.tile_height,
    }


def store_poster(
    writer: VariantWriter, jpeg: bytes, width: int, height: int, prefix: str = "poster_"
) -> dict[str, Variant]:
    """The poster JPEG and its preset sizes."""
    variants = {
        "poster": writer.put_bytes(
            "poster", jpeg, content_type="image/jpeg", extension="jpg", width=width, height=height
        )
    }
    with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as picture:
        picture.load()
        variants.update(store_rendered(writer, render_variants(picture, POSTER_PRESETS), prefix=prefix))
    return variants
