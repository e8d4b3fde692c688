"""Video benchmark (a script, not a test): `make bench-video` or `.venv/bin/python bench/bench_video.py`.

1. Wrapper overhead: media_core.engines.av.transcode.transcode_video() vs the bare ffmpeg command with the
   identical argument list, interleaved in the same run (target ratio <= 1.03).
2. Range reads: probe + poster of >= 500 MB files served by tests/support/range_server.py at two
   lengths: bytes read (target <= 5 % of the file) and time (must not grow with length).
3. x264 throughput: real-time factor (media s per wall s) and core-seconds per media second at
   720p and 1080p for presets ultrafast..medium on a noisy synthetic source; recommends a default.

Generated inputs live in bench/out/ (gitignored) and are reused. Options: --quick (smaller/fewer).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "media_core"), str(ROOT)]

from media_core.engines.av.binaries import find_binaries  # noqa: E402
from media_core.engines.av.limits import TranscodeOptions  # noqa: E402
from media_core.engines.av.poster import extract_poster  # noqa: E402
from media_core.engines.av.probe import probe  # noqa: E402
from media_core.engines.av.transcode import plan_transcode, transcode_command, transcode_video  # noqa: E402

from tests.support.range_server import RangeServer  # noqa: E402

OUT = ROOT / "bench" / "out"
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "medium")


def ffmpeg(*args: str) -> None:
    cmd = [str(find_binaries().ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    subprocess.run(cmd, check=True)


def noisy_source(name: str, width: int, height: int, seconds: float, fps: int = 30) -> Path:
    """testsrc2 + temporal noise (phone-sensor-like), near-lossless H.264 + AAC: cheap to decode."""
    path = OUT / name
    if not path.exists():
        tmp = path.with_suffix(".partial.mp4")
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds},noise=alls=6:allf=t",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:sample_rate=48000:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "14",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-shortest",
            "-f",
            "mp4",
            str(tmp),
        )
        tmp.replace(path)
    return path


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- 1. overhead ---------------------------------------------------------------------------------
def bench_overhead(rounds: int) -> dict[str, float]:
    src = noisy_source("overhead_720p_4s.mp4", 1280, 720, 4)
    settings = TranscodeOptions(preset="veryfast", allow_stream_copy=False)
    info = probe(str(src))
    plan = plan_transcode(info, settings)
    bare_out, wrapped_out = OUT / "overhead_bare.mp4", OUT / "overhead_wrapped.mp4"
    bare_args = transcode_command(str(src), bare_out, info, settings, plan)
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "wrapped": [], "probe+wrapped": []}

    def bare() -> None:
        subprocess.run(bare_args, check=True, capture_output=True, stdin=subprocess.DEVNULL)

    def wrapped() -> None:
        transcode_video(str(src), wrapped_out, info, settings, plan=plan)

    def probed() -> None:
        transcode_video(str(src), wrapped_out, probe(str(src)), settings)

    for i in range(rounds):  # interleaved, rotating the order, so drift hits all three alike
        order = [("bare", bare), ("wrapped", wrapped), ("probe+wrapped", probed)]
        for name, fn in order[i % 3 :] + order[: i % 3]:
            cpu, t = cpu_children(), time.perf_counter()
            fn()
            runs[name].append((time.perf_counter() - t, cpu_children() - cpu))
    result: dict[str, float] = {}
    what = f"720p noisy {info.duration_s:.0f} s -> veryfast CRF 23; {rounds} rounds"
    print(f"\n== 1. wrapper overhead ({what}) ==")
    print("bare ffmpeg:", " ".join(Path(a).name if a.startswith("/") else a for a in bare_args))
    base_wall = min(w for w, _ in runs["bare"])
    base_cpu = statistics.median(c for _, c in runs["bare"])
    for name, values in runs.items():
        wall_min = min(w for w, _ in values)
        wall_med = statistics.median(w for w, _ in values)
        cpu_med = statistics.median(c for _, c in values)
        result.update(
            {
                f"{name}_wall_min_s": wall_min,
                f"{name}_wall_median_s": wall_med,
                f"{name}_cpu_s": cpu_med,
                f"{name}_ratio_wall_min": wall_min / base_wall,
                f"{name}_ratio_cpu": cpu_med / base_cpu,
            }
        )
        print(
            f"  {name:15s} wall min {wall_min:6.3f} s (median {wall_med:6.3f})"
            f"  ratio {wall_min / base_wall:.3f}"
            f" | child CPU {cpu_med:6.3f} s  ratio {cpu_med / base_cpu:.3f}"
        )
    for p in (bare_out, wrapped_out):
        p.unlink(missing_ok=True)
    return result


# -- 2. range reads on big files -----------------------------------------------------------------
def big_file(name: str, loops: int, faststart: bool = False) -> Path:
    path = OUT / name
    if path.exists():
        return path
    dense = OUT / "dense_720p_2s.mp4"
    if not dense.exists():  # ~20 Mbit/s 720p: a 2 s chunk of ~5 MB
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=2,noise=alls=20:allf=t+u",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "20M",
            "-maxrate",
            "20M",
            "-bufsize",
            "20M",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-f",
            "mp4",
            str(dense),
        )
    tmp = path.with_suffix(".partial.mp4")
    flags = ["-movflags", "+faststart"] if faststart else []
    ffmpeg("-stream_loop", str(loops - 1), "-i", str(dense), "-c", "copy", *flags, "-f", "mp4", str(tmp))
    tmp.replace(path)
    return path


def bench_range_reads(quick: bool) -> list[dict[str, float | str]]:
    t = time.perf_counter()
    specs = [("big_500mb.mp4", 100, False), ("big_1000mb.mp4", 200, False), ("big_1000mb_fs.mp4", 200, True)]
    if quick:
        specs = specs[:2]
    files = [(big_file(n, loops, fs), fs) for n, loops, fs in specs]
    ready = time.perf_counter() - t
    print(f"\n== 2. probe + poster over HTTP range reads (inputs ready in {ready:.1f} s) ==")
    rows: list[dict[str, float | str]] = []
    with RangeServer(OUT) as server:
        for path, faststart in files:
            size = path.stat().st_size
            url = server.url(path.name)
            probe(url)  # warm the page cache for fair timing
            server.reset()
            t = time.perf_counter()
            info = probe(url)
            probe_s = time.perf_counter() - t
            probe_bytes = server.bytes_sent(path.name)
            server.reset()
            t = time.perf_counter()
            poster = extract_poster(url, info)
            poster_s = time.perf_counter() - t
            poster_bytes = server.bytes_sent(path.name)
            total = probe_bytes + poster_bytes
            row: dict[str, float | str] = {
                "file": path.name,
                "size_mb": size / 1e6,
                "duration_s": info.duration_s,
                "moov": "front" if faststart else "end",
                "probe_s": probe_s,
                "probe_mb": probe_bytes / 1e6,
                "poster_s": poster_s,
                "poster_mb": poster_bytes / 1e6,
                "read_pct": 100 * total / size,
            }
            rows.append(row)
            print(
                f"  {path.name:20s} {size / 1e6:7.0f} MB {info.duration_s:6.0f} s moov@{row['moov']:5s}"
                f" probe {probe_s * 1000:6.0f} ms {probe_bytes / 1e6:6.2f} MB |"
                f" poster {poster_s * 1000:6.0f} ms {poster_bytes / 1e6:6.2f} MB"
                f" ({poster.width}x{poster.height}) | read {row['read_pct']:.2f} % of the file"
            )
    return rows


# -- 3. presets ----------------------------------------------------------------------------------
def bench_presets(quick: bool) -> list[dict[str, float | str]]:
    seconds = 2 if quick else 4
    src = noisy_source(f"noisy_1080p30_{seconds}s.mp4", 1920, 1080, seconds)
    info = probe(str(src))
    rows: list[dict[str, float | str]] = []
    print(f"\n== 3. x264 CRF 23 on a noisy 1080p30 source ({seconds} s), {os.cpu_count()} cores ==")
    print(
        f"  {'target':7s} {'preset':10s} {'wall s':>7s} {'RTF':>6s} {'core-s/s':>9s}"
        f" {'encode':>7s} {'MB':>7s}"
    )
    out = OUT / "preset_out.mp4"
    for label, (long_side, short_side) in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
        # decode + scale alone, to separate the encoder's share (budget.py models both)
        cpu = cpu_children()
        ffmpeg("-i", str(src), "-vf", f"scale={long_side}:{short_side}", "-f", "null", "-")
        decode = (cpu_children() - cpu) / info.duration_s
        print(f"  {label:7s} {'decode+scale only':18s} {'':>6s} {decode:9.2f}")
        for preset in PRESETS:
            settings = replace(
                TranscodeOptions(),
                preset=preset,
                max_long=long_side,
                max_short=short_side,
                allow_stream_copy=False,
            )
            cpu = cpu_children()
            t = time.perf_counter()
            result = transcode_video(str(src), out, info, settings)
            wall = time.perf_counter() - t
            core_s = cpu_children() - cpu
            row: dict[str, float | str] = {
                "target": label,
                "preset": preset,
                "wall_s": wall,
                "rtf": info.duration_s / wall,
                "core_s_per_s": core_s / info.duration_s,
                "mb": result.size_bytes / 1e6,
                "encode_core_s_per_s": core_s / info.duration_s - decode,
                "mbps": result.size_bytes * 8 / info.duration_s / 1e6,
            }
            rows.append(row)
            print(
                f"  {label:7s} {preset:10s} {wall:7.2f} {row['rtf']:6.2f} {row['core_s_per_s']:9.2f}"
                f" {row['encode_core_s_per_s']:7.2f} {row['mb']:7.2f}  ({row['mbps']:.1f} Mbit/s)"
            )
    out.unlink(missing_ok=True)
    return rows


def recommend(rows: list[dict[str, float | str]]) -> str:
    """Fastest preset whose output is within 15 % of medium's size at 1080p."""
    at1080 = {str(r["preset"]): r for r in rows if r["target"] == "1080p"}
    medium = float(at1080["medium"]["mb"])
    for preset in PRESETS:
        if float(at1080[preset]["mb"]) <= 1.15 * medium:
            return preset
    return "medium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter sources")
    parser.add_argument("--only", choices=["overhead", "range", "presets"], action="append")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["overhead", "range", "presets"])
    bins = find_binaries()
    version = subprocess.run([str(bins.ffmpeg), "-version"], capture_output=True, check=True).stdout.decode()
    print(f"{version.splitlines()[0]} | {bins.ffmpeg} | {platform.machine()} | {os.cpu_count()} cores")
    started = time.perf_counter()
    report: dict[str, object] = {}
    if "overhead" in only:
        report["overhead"] = bench_overhead(3 if args.quick else 6)
    if "range" in only:
        report["range_reads"] = bench_range_reads(args.quick)
    if "presets" in only:
        rows = bench_presets(args.quick)
        report["presets"] = rows
        choice = recommend(rows)
        report["recommended_preset"] = choice
        print(f"\n  recommended default preset: {choice} (fastest within 15 % of medium's size at 1080p)")
    report["total_s"] = time.perf_counter() - started
    (OUT / "bench_video.json").write_text(json.dumps(report, indent=2))
    print(f"\ntotal {report['total_s']:.0f} s; figures in {OUT / 'bench_video.json'}")


if __name__ == "__main__":
    main()
