"""Serving HLS playlists of private media: every URI inside a playlist is rewritten to a signed URL.

A presigned master playlist alone does not play: its relative rendition and segment URIs would be
fetched unsigned. So playlists are read by the API (for whoever may see the media) and returned
with each segment and init URI replaced by a signed GET of that object; the URIs of the next
playlists (`720p.m3u8`, `audio.m3u8`) stay relative, so the player asks the same route for them.
The storyboard's WebVTT gets the same treatment (its `sprite.jpg#xywh=` cues).

Pure: the caller passes the object keys and a signer.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from media_core.domain.errors import NotFound

MASTER = "master.m3u8"
STORYBOARD = "storyboard.vtt"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
VTT_TYPE = "text/vtt"
_PLAYLIST_NAME = re.compile(r"^[a-z0-9_]{1,32}\.m3u8$")
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


def playlist_names(renditions: Iterable[str], has_audio: bool) -> frozenset[str]:
    names = {MASTER, *(f"{name}.m3u8" for name in renditions)}
    if has_audio:
        names.add("audio.m3u8")
    return frozenset(n for n in names if _PLAYLIST_NAME.match(n))


def check_name(name: str, allowed: frozenset[str], media_id: str) -> None:
    if name not in allowed:
        raise NotFound(f"media {media_id} has no streaming file {name[:40]!r}")


def _inside(base_key: str, uri: str, prefix: str) -> str | None:
    """The object key `uri` names, relative to the object `base_key`, if it stays under `prefix`."""
    if "://" in uri or uri.startswith("/") or "?" in uri or "#" in uri:
        return None
    key = posixpath.normpath(posixpath.join(posixpath.dirname(base_key), uri))
    return key if key.startswith(prefix) and ".." not in key.split("/") else None


def sign_playlist(text: str, playlist_key: str, prefix: str, sign: Callable[[str], str]) -> str:
    """`text` (an m3u8 stored at `playlist_key`) with every media URI signed; playlist URIs kept."""

    def rewrite(uri: str) -> str:
        if _PLAYLIST_NAME.match(uri):
            return uri  # the next playlist: the same route, relative to this one
        key = _inside(playlist_key, uri, prefix)
        if key is None:
            raise ValueError(f"playlist {playlist_key} names {uri!r} outside its run")
        return sign(key)

    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append(line)
        elif stripped.startswith("#"):
            out.append(_URI_ATTRIBUTE.sub(lambda m: f'URI="{rewrite(m.group(1))}"', line))
        else:
            out.append(rewrite(stripped))
    return "\n".join(out) + "\n"


def sign_vtt(text: str, vtt_key: str, prefix: str, sign: Callable[[str], str]) -> str:
    """A storyboard WebVTT with each cue's image (`sprite.jpg#xywh=...`) signed."""
    out: list[str] = []
    signed: dict[str, str] = {}
    for line in text.splitlines():
        if "#xywh=" in line and "-->" not in line:
            image, _, fragment = line.strip().partition("#")
            key = _inside(vtt_key, image, prefix)
            if key is None:
                raise ValueError(f"storyboard {vtt_key} names {image!r} outside its run")
            if key not in signed:
                signed[key] = sign(key)
            out.append(f"{signed[key]}#{fragment}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"
