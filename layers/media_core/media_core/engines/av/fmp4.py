"""Just enough ISO-BMFF to package fragmented MP4 output as HLS/CMAF segments.

ffmpeg writes one fragmented MP4 per rung and range (`+frag_keyframe+empty_moov+default_base_moof`):
`ftyp moov` (the init segment), then one `moof mdat` pair per GOP whose `tfdt` starts at 0. To
stitch independently encoded ranges, each fragment's `tfdt` (baseMediaDecodeTime) is shifted by the
range's start in track ticks and `mfhd` gets the global fragment number. Nothing else changes, so the
init segment stays byte-identical across workers. Files are streamed (the mdat payload is copied
in chunks): a whole-file range can be large.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"edts"})
TRUN_DATA_OFFSET = 0x000001
TRUN_FIRST_SAMPLE_FLAGS = 0x000004
TRUN_SAMPLE_DURATION = 0x000100
TRUN_SAMPLE_CTS = 0x000800
TFHD_BASE_DATA_OFFSET = 0x000001
TFHD_SAMPLE_DESCRIPTION = 0x000002
TFHD_DEFAULT_DURATION = 0x000008


class PackagingError(RuntimeError):
    """ffmpeg's output does not have the expected structure (a bug, not the upload's fault)."""


@dataclass(frozen=True, slots=True)
class Box:
    kind: bytes
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def _box_at(head: bytes, offset: int, end: int) -> Box:
    """The box whose header `head` starts with (its first 16 bytes, fewer at the end of the
    data), standing at `offset` in a container that ends at `end`."""
    size, kind = struct.unpack(">I4s", head[:8])
    header = 8
    if size == 1:
        (size,) = struct.unpack(">Q", head[8:16])
        header = 16
    elif size == 0:
        size = end - offset
    if size < header or offset + size > end:
        raise PackagingError(f"bad box {kind!r} size {size} at {offset}")
    return Box(kind, offset, size, header)


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        box = _box_at(data[offset : offset + 16], offset, end)
        yield box
        offset += box.size


def iter_file_boxes(fh: BinaryIO) -> Iterator[Box]:
    """Top-level boxes of an open file, without reading payloads."""
    fh.seek(0, 2)
    total = fh.tell()
    offset = 0
    while offset + 8 <= total:
        fh.seek(offset)
        box = _box_at(fh.read(16), offset, total)
        yield box
        offset += box.size


def find_box(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> Box | None:
    for box in iter_boxes(data, start, end):
        if box.kind == path[0]:
            if len(path) == 1:
                return box
            return find_box(data, path[1:], box.offset + box.header, box.end)
    return None


@dataclass(frozen=True, slots=True)
class Fragment:
    """One `moof mdat` pair as read: where it is, how many samples, its decode start and length."""

    moof: Box
    mdat: Box
    samples: int
    base_decode_time: int
    duration_ticks: int


def parse_moof(moof: bytes) -> tuple[int, int, int]:
    """(sample count, tfdt, duration in ticks) of a single-track moof."""
    traf = find_box(moof, [b"moof", b"traf"])
    if traf is None:
        raise PackagingError("moof without traf")
    default_duration = 0
    tfdt = samples = duration = 0
    for box in iter_boxes(moof, traf.offset + traf.header, traf.end):
        body = box.offset + box.header
        if box.kind == b"tfhd":
            flags = int.from_bytes(moof[body + 1 : body + 4], "big")
            pos = body + 8
            pos += 8 if flags & TFHD_BASE_DATA_OFFSET else 0
            pos += 4 if flags & TFHD_SAMPLE_DESCRIPTION else 0
            if flags & TFHD_DEFAULT_DURATION:
                (default_duration,) = struct.unpack(">I", moof[pos : pos + 4])
        elif box.kind == b"tfdt":
            version = moof[body]
            fmt = ">Q" if version == 1 else ">I"
            (tfdt,) = struct.unpack(fmt, moof[body + 4 : body + (12 if version == 1 else 8)])
        elif box.kind == b"trun":
            flags = int.from_bytes(moof[body + 1 : body + 4], "big")
            (count,) = struct.unpack(">I", moof[body + 4 : body + 8])
            samples += count
            pos = (
                body
                + 8
                + (4 if flags & TRUN_DATA_OFFSET else 0)
                + (4 if flags & TRUN_FIRST_SAMPLE_FLAGS else 0)
            )
            per_sample = 4 * bin(flags & 0xF00).count("1")
            if flags & TRUN_SAMPLE_DURATION:
                for i in range(count):
                    (d,) = struct.unpack(">I", moof[pos + i * per_sample : pos + i * per_sample + 4])
                    duration += d
            else:
                duration += count * default_duration
    return samples, tfdt, duration


def patch_moof(moof: bytes, decode_time_shift: int, sequence_number: int) -> bytes:
    """A copy of `moof` with tfdt += shift and mfhd = sequence_number (sizes unchanged)."""
    out = bytearray(moof)
    mfhd = find_box(moof, [b"moof", b"mfhd"])
    tfdt = find_box(moof, [b"moof", b"traf", b"tfdt"])
    if mfhd is None or tfdt is None:
        raise PackagingError("moof without mfhd/tfdt")
    struct.pack_into(">I", out, mfhd.offset + mfhd.header + 4, sequence_number)
    body = tfdt.offset + tfdt.header
    if moof[body] == 1:
        (old,) = struct.unpack(">Q", moof[body + 4 : body + 12])
        struct.pack_into(">Q", out, body + 4, old + decode_time_shift)
    else:
        (old,) = struct.unpack(">I", moof[body + 4 : body + 8])
        new = old + decode_time_shift
        if new >= 2**32:
            raise PackagingError("tfdt overflows a version-0 box")
        struct.pack_into(">I", out, body + 4, new)
    return bytes(out)


def edit_media_time(init: bytes) -> int:
    """The first edit's media_time (the B-frame or AAC-priming delay ffmpeg signals), 0 if none."""
    elst = find_box(init, [b"moov", b"trak", b"edts", b"elst"])
    if elst is None:
        return 0
    body = elst.offset + elst.header
    if init[body] == 1:
        (media_time,) = struct.unpack(">q", init[body + 16 : body + 24])
    else:
        (media_time,) = struct.unpack(">i", init[body + 12 : body + 16])
    return max(0, int(media_time))


def zero_edit(init: bytes) -> bytes:
    """A copy of `init` whose edit starts at media time 0 (used with `cts_shift` below)."""
    elst = find_box(init, [b"moov", b"trak", b"edts", b"elst"])
    if elst is None:
        return init
    out = bytearray(init)
    body = elst.offset + elst.header
    if init[body] == 1:
        struct.pack_into(">q", out, body + 16, 0)
    else:
        struct.pack_into(">i", out, body + 12, 0)
    return bytes(out)


def shift_composition(moof: bytes, shift: int) -> bytes:
    """Subtract `shift` from every sample's composition offset (trun version 1: signed offsets), so
    the first frame presents at its decode time. This is what CMAF asks for (ISO/IEC 23000-19):
    the timeline then no longer depends on the player applying the init segment's edit list
    (several web players ignore it, which would put the video a B-frame delay behind the audio)."""
    if shift == 0:
        return moof
    out = bytearray(moof)
    for trun in _all(moof, [b"moof", b"traf", b"trun"]):
        body = trun.offset + trun.header
        flags = int.from_bytes(moof[body + 1 : body + 4], "big")
        if not flags & TRUN_SAMPLE_CTS:
            raise PackagingError("trun without composition offsets but the track has a delay")
        (count,) = struct.unpack(">I", moof[body + 4 : body + 8])
        pos = (
            body + 8 + (4 if flags & TRUN_DATA_OFFSET else 0) + (4 if flags & TRUN_FIRST_SAMPLE_FLAGS else 0)
        )
        per_sample = 4 * bin(flags & 0xF00).count("1")
        cts_at = 4 * bin(flags & 0x700).count("1")  # duration, size, flags come before the offset
        signed = moof[body] == 1
        out[body] = 1
        for i in range(count):
            at = pos + i * per_sample + cts_at
            (value,) = struct.unpack(">i" if signed else ">I", moof[at : at + 4])
            struct.pack_into(">i", out, at, value - shift)
    return bytes(out)


def _all(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> Iterator[Box]:
    for box in iter_boxes(data, start, end):
        if box.kind == path[0]:
            if len(path) == 1:
                yield box
            else:
                yield from _all(data, path[1:], box.offset + box.header, box.end)


@dataclass(frozen=True, slots=True)
class FragmentedFile:
    init: bytes  # ftyp + moov
    fragments: tuple[Fragment, ...]


def read_fragmented(path: Path) -> FragmentedFile:
    """Init bytes and the fragment index of a fragmented MP4 (payloads stay on disk)."""
    init = b""
    fragments: list[Fragment] = []
    pending: Box | None = None
    with path.open("rb") as fh:
        for box in iter_file_boxes(fh):
            if box.kind in (b"ftyp", b"moov"):
                fh.seek(box.offset)
                init += fh.read(box.size)
            elif box.kind == b"moof":
                pending = box
            elif box.kind == b"mdat" and pending is not None:
                fh.seek(pending.offset)
                samples, tfdt, duration = parse_moof(fh.read(pending.size))
                fragments.append(Fragment(pending, box, samples, tfdt, duration))
                pending = None
            # sidx/mfra/free/udta at the top level are not part of the HLS segments
    if not init.startswith(b"\0\0\0") or b"moov" not in init:
        raise PackagingError(f"{path.name}: no init segment (ftyp+moov)")
    return FragmentedFile(init, tuple(fragments))


def write_segment(
    src: BinaryIO,
    fragments: list[Fragment],
    out: Path,
    decode_time_shift: int,
    first_sequence: int,
    cts_shift: int = 0,
) -> int:
    """Write `fragments` (patched moof + mdat) as one media segment file; returns its size."""
    with out.open("wb") as dst:
        for i, frag in enumerate(fragments):
            src.seek(frag.moof.offset)
            moof = patch_moof(src.read(frag.moof.size), decode_time_shift, first_sequence + i)
            dst.write(shift_composition(moof, cts_shift))
            src.seek(frag.mdat.offset)
            _copy(src, dst, frag.mdat.size)
        return dst.tell()


def _copy(src: BinaryIO, dst: BinaryIO, size: int, chunk: int = 1 << 20) -> None:
    left = size
    while left > 0:
        block = src.read(min(chunk, left))
        if not block:
            raise PackagingError("file ended inside a box")
        dst.write(block)
        left -= len(block)


def media_timescale(init: bytes) -> int:
    mdhd = find_box(init, [b"moov", b"trak", b"mdia", b"mdhd"])
    if mdhd is None:
        raise PackagingError("init segment has no mdhd")
    body = mdhd.offset + mdhd.header
    at = body + (20 if init[body] == 1 else 12)
    (timescale,) = struct.unpack(">I", init[at : at + 4])
    return int(timescale)


def avc_codec_string(init: bytes) -> str:
    """RFC 6381 `avc1.PPCCLL` from the avcC box (profile, constraint flags, level as coded)."""
    at = init.find(b"avcC")
    if at < 0 or at + 8 > len(init):
        raise PackagingError("init segment has no avcC box")
    profile, compat, level = init[at + 5], init[at + 6], init[at + 7]
    return f"avc1.{profile:02x}{compat:02x}{level:02x}"


def aac_codec_string(init: bytes) -> str:
    """`mp4a.40.<audio object type>` from the esds DecoderSpecificInfo (2 = AAC-LC)."""
    at = init.find(b"esds")
    if at < 0:
        raise PackagingError("init segment has no esds box")
    body = init[at + 8 :]
    # Walk descriptors: tag, length (1-4 bytes with continuation bit), payload.
    pos = 0
    while pos < len(body):
        tag = body[pos]
        pos += 1
        length = 0
        for _ in range(4):
            b = body[pos]
            pos += 1
            length = (length << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID(2) + flags(1), then nested descriptors
            flags = body[pos + 2]
            pos += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                pos += 1 + body[pos]
        elif tag == 0x04:  # DecoderConfigDescriptor: 13 fixed bytes, then DecoderSpecificInfo
            pos += 13
        elif tag == 0x05:
            aot = body[pos] >> 3
            return f"mp4a.40.{aot}"
        else:
            pos += length
    return "mp4a.40.2"


def copy_file_into(dst: BinaryIO, path: Path) -> None:
    with path.open("rb") as src:
        shutil.copyfileobj(src, dst, 1 << 20)
