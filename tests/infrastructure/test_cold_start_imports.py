"""Cold start matters: the API and scheduled functions never import the processors' heavy
libraries (Pillow, numpy, ffmpeg-python, pdfium, libheif) — those ship only with the processors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["PIL", "numpy", "ffmpeg", "pypdfium2", "pillow_heif"]
PROBE = """
import importlib.util, json, sys
sys.path.insert(0, "layers/media_core")
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""


@pytest.mark.parametrize("function", ["uploads", "query", "manage", "cleanup", "reaper"])
def test_light_functions_import_no_heavy_library(function: str):
    env = {
        **os.environ,
        "TABLE_NAME": "t",
        "UPLOADS_BUCKET": "uploads-bucket",
        "MEDIA_BUCKET": "media-bucket",
        "EVENT_BUS_NAME": "bus",
        "IMAGE_QUEUE_URL": "http://127.0.0.1/q",
        "AV_QUEUE_URL": "http://127.0.0.1/q",
        "DOCUMENT_QUEUE_URL": "http://127.0.0.1/q",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, f"functions/{function}/app.py", *HEAVY],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
