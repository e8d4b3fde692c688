"""Cold start matters: the API and scheduled functions never import the processors' heavy
libraries (Pillow, numpy, ffmpeg-python, pdfium, libheif) — those ship only with the processors.
Outside Lambda, the API functions' `import app` reads the settings and nothing more: the event
handler, the routes, the request models and the validation come with the first request
(media_core.api.lazy), and then only what that function's routes use (media_core.wiring imports
inside each factory). On Lambda (AWS_LAMBDA_INITIALIZATION_TYPE set) all of that, the services and
their boto3 clients are built by the import, in the init phase, and the first request loads no
more of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.bench_cold_start import aws_stub, first_request_event, targets

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["PIL", "numpy", "ffmpeg", "pypdfium2", "pillow_heif"]
ENV = {
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
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
ENV.pop("AWS_LAMBDA_INITIALIZATION_TYPE", None)
ON_LAMBDA = {"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_ACCESS_KEY_ID": "x"}
ON_LAMBDA["AWS_SECRET_ACCESS_KEY"] = "x"
# Imports the app as Lambda does (its folder, then the layer, on sys.path); prints which of the
# named modules are loaded after the import and, given an event, after that one request.
PROBE = """
import importlib.util, json, os, sys
app_file, event, names = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path[:0] = [os.path.dirname(os.path.abspath(app_file)), "layers/media_core"]
spec = importlib.util.spec_from_file_location("app", app_file)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
loaded = {"import": sorted(m for m in names if m in sys.modules)}
if event:
    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "probe", 128, "probe"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    answer = module.handler(json.loads(event), Context())
    loaded["status"] = answer["statusCode"]
    loaded["body"] = json.loads(answer["body"])
    loaded["request"] = sorted(m for m in names if m in sys.modules)
print(json.dumps(loaded))
"""

# What no API function may load at import: the HTTP and validation machinery, the models, the
# services and the data-access classes, the delivery signers (cryptography), pydantic-settings.
FIRST_REQUEST_ONLY = [
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "media_core.api.http",
    "media_core.api.models",
    "media_core.wiring",
    "media_core.domain.models",
    "pydantic_settings",
]
UPLOADS_ONLY = ["media_core.services.uploads", "media_core.services.uppy", "media_core.dal.dynamo.usage"]
QUERY_ONLY = ["media_core.services.queries", "media_core.dal.url_signing", "cryptography"]
MANAGE_ONLY = ["media_core.services.management", "media_core.services.deletion", "media_core.dal.queue"]
SERVICES = [*UPLOADS_ONLY, *QUERY_ONLY, *MANAGE_ONLY, "media_core.dal.dynamo.repository", "media_core.dal.s3"]


def run_python(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**ENV, **(env or {})}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def probe(
    function: str, names: list[str], event: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    app = f"functions/{function}/app.py"
    found: dict[str, Any] = json.loads(
        run_python("-c", PROBE, app, json.dumps(event) if event else "", *names, env=env)
    )
    return found


@pytest.mark.parametrize("function", ["uploads", "query", "manage", "cleanup", "reaper"])
def test_light_functions_import_no_heavy_library(function: str):
    assert probe(function, HEAVY)["import"] == []


@pytest.mark.parametrize("function", ["uploads", "query", "manage"])
def test_api_import_leaves_http_models_and_services_to_the_first_request(function: str):
    # Given an API function, When it is imported (its cold start's init phase)
    loaded = probe(function, [*FIRST_REQUEST_ONLY, *SERVICES, "media_core.settings"])
    # Then its settings are read, and nothing of the HTTP layer, the models or the services is loaded
    assert loaded["import"] == ["media_core.settings"]


@pytest.mark.parametrize(
    ("function", "not_its_paths"),
    [
        ("uploads", [*QUERY_ONLY, *MANAGE_ONLY]),
        ("query", [*UPLOADS_ONLY, *MANAGE_ONLY]),
        ("manage", [*UPLOADS_ONLY, "cryptography"]),
    ],
)
def test_first_request_validates_and_loads_only_the_functions_own_paths(
    function: str, not_its_paths: list[str]
):
    # Given an API function and the request its validation refuses (the benchmark's first request)
    event = json.loads(first_request_event(function))
    # When it is imported and answers that request
    loaded = probe(function, [*FIRST_REQUEST_ONLY, *not_its_paths], event)
    # Then the request was validated by Powertools' OpenAPI validation, loaded on that request
    assert loaded["status"] == 422
    assert loaded["body"]["error"] == "validation_error"
    assert loaded["body"]["details"]
    assert "aws_lambda_powertools.event_handler.middlewares.openapi_validation" in loaded["request"]
    assert "media_core.api.models" in loaded["request"]
    # And no module that only the other API functions' paths use was imported
    assert not set(not_its_paths) & set(loaded["request"])
    assert "pydantic_settings" not in loaded["request"]


def test_wiring_imports_no_service_until_a_factory_is_called():
    code = (
        "import sys; sys.path.insert(0, 'layers/media_core'); import media_core.wiring, json; "
        f"print(json.dumps(sorted(m for m in {SERVICES!r} if m in sys.modules)))"
    )
    assert json.loads(run_python("-c", code)) == []


OWN_SERVICES = {"uploads": UPLOADS_ONLY, "query": QUERY_ONLY[:2], "manage": MANAGE_ONLY}


@pytest.mark.parametrize("function", ["uploads", "query", "manage"])
def test_on_lambda_the_init_phase_builds_the_resolver_services_and_clients(function: str):
    # Given an API function on Lambda, where the init phase runs on an unthrottled vCPU
    event = json.loads(first_request_event(function))
    names = [*FIRST_REQUEST_ONLY[:-1], *OWN_SERVICES[function], "boto3", "botocore.client"]
    # When it is imported, then answers its first request
    loaded = probe(function, names, event, env=ON_LAMBDA)
    # Then the import built the HTTP layer, the validation, its own services and their clients
    assert loaded["import"] == sorted(names)
    # And that request was still validated (the resolver is the same) and loaded none of it itself
    assert loaded["status"] == 422
    assert loaded["body"]["error"] == "validation_error"
    assert loaded["request"] == loaded["import"]
    # And no other function's services came with it
    shared = {"media_core.dal.dynamo.repository", "media_core.dal.s3"}
    others = {*SERVICES} - {*OWN_SERVICES[function]} - shared
    if function == "manage":  # a changed record is answered with the query service's view
        others -= {"media_core.services.queries", "media_core.dal.url_signing"}
    assert not others & set(probe(function, sorted(others), env=ON_LAMBDA)["import"])


# The heavy libraries each processor imports: those of its own kind. numpy only where every run
# uses it, the image fingerprints (image); the audio waveform (av) and 16-bit pixels (transform,
# document, posters) import it when they need it (~40-115 ms of a cold start).
PROCESSOR_LIBRARIES = {
    "image": ["PIL", "numpy", "pillow_heif"],
    "document": ["PIL", "pillow_heif", "pypdfium2"],
    "av": ["PIL", "ffmpeg", "pillow_heif"],
    "transcode": ["PIL", "ffmpeg", "pillow_heif"],
    "transform": ["PIL", "pillow_heif"],
}


def test_each_processor_imports_only_the_libraries_of_its_kind():
    # Their template environments; the transform function reads its signing keys from a stub
    with aws_stub() as endpoint:
        envs = {t.name: t.env for t in targets(endpoint) if t.name in PROCESSOR_LIBRARIES}
        loaded = {
            name: probe(
                name, HEAVY, env={**envs[name], "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
            )
            for name in PROCESSOR_LIBRARIES
        }
    assert {name: found["import"] for name, found in loaded.items()} == PROCESSOR_LIBRARIES


def test_an_on_demand_transform_renders_without_numpy():
    # A 600x400 JPEG rendered at 300 px wide as WebP, in a fresh process
    code = (
        "import io, sys; sys.path.insert(0, 'layers/media_core'); from PIL import Image; "
        "from media_core.domain.transform import TransformOptions; "
        "from media_core.engines.imaging.transform import render_transform; "
        "buffer = io.BytesIO(); Image.new('RGB', (600, 400), (200, 30, 30)).save(buffer, 'JPEG'); "
        "result = render_transform(buffer.getvalue(), TransformOptions(width=300, format='webp')); "
        "image = Image.open(io.BytesIO(result.data)); "
        "print(image.format, image.size, 'numpy' in sys.modules)"
    )
    assert run_python("-c", code) == "WEBP (300, 200) False"
