"""The shared layer ships the AWS SDK the tests use, with only the service models the code calls
(layers/media_core/requirements.txt, sdk-services.txt, Makefile `layer-sdk-models`).

On Lambda /opt/python comes before the runtime's own boto3, and aws-xray-sdk brings botocore into
the layer: without boto3 pinned beside it, the runtime's boto3 ran on a botocore no test had run
it with. The trimmed models make a client of an unlisted service fail (UnknownServiceError), so
the list is checked against every client the code creates."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import botocore
import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "media_core"
CODE = [LAYER / "media_core", ROOT / "functions"]
SDK_CALLS = {"client", "resource"}


def _listed() -> set[str]:
    lines = (LAYER / "sdk-services.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _called() -> dict[str, list[str]]:
    """Service name -> where the layer's and functions' code create a boto3 client or resource."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for folder in CODE for p in folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target = node.func.value
            if node.func.attr not in SDK_CALLS or not (isinstance(target, ast.Name) and target.id == "boto3"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            first = node.args[0] if node.args else None
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"{where}: the service must be a literal, so the layer's model list can be checked"
            )
            found.setdefault(first.value, []).append(where)
    return found


def _pins() -> dict[str, str]:
    text = (LAYER / "requirements.txt").read_text()
    pinned = re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", text, re.M)
    return {name.lower(): version for name, version in pinned}


def test_the_model_list_is_exactly_the_services_the_code_calls() -> None:
    called = _called()
    assert {"s3", "dynamodb", "sqs"} <= set(called), called  # the scan sees the clients
    missing = set(called) - _listed()
    assert not missing, f"not in sdk-services.txt (the layer would have no model): {missing} {called}"
    unused = _listed() - set(called)
    assert not unused, f"sdk-services.txt lists models no code uses: {unused}"


def test_the_layer_pins_the_sdk_the_tests_run() -> None:
    pins = _pins()
    for package in ("boto3", "botocore", "s3transfer"):
        assert pins.get(package) == importlib.metadata.version(package), (package, pins.get(package))
    assert (boto3.__version__, botocore.__version__) == (pins["boto3"], pins["botocore"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This environment's boto3 and botocore (the pinned ones), trimmed by the layer's Makefile."""
    artifacts = tmp_path_factory.mktemp("layer")
    for package in (boto3, botocore):
        source = Path(str(package.__file__)).parent
        target = artifacts / "python" / source.name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        ["make", "-s", "-C", str(LAYER), "layer-sdk-models", f"ARTIFACTS_DIR={artifacts}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return artifacts / "python"


def test_only_the_listed_models_are_left(site: Path) -> None:
    kept = {p.name for p in (site / "botocore" / "data").iterdir() if p.is_dir()}
    assert kept == _listed()
    assert {p.name for p in (site / "boto3" / "data").iterdir() if p.is_dir()} == {"dynamodb", "s3", "sqs"}
    for shared in ("endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"):
        assert (site / "botocore" / "data" / shared).is_file(), shared


def test_every_listed_client_works_from_the_trimmed_sdk_and_others_do_not(site: Path) -> None:
    script = f"""
import json, sys
sys.path.insert(0, {str(site)!r})
import boto3, botocore.config, botocore.exceptions
assert boto3.__file__.startswith({str(site)!r}) and botocore.__file__.startswith({str(site)!r})
session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-1")
made = {{name: session.client(name).meta.service_model.service_name for name in {sorted(_listed())!r}}}
table = session.resource("dynamodb").Table("media")
s3 = session.client("s3", config=botocore.config.Config(signature_version="s3v4"))
url = s3.generate_presigned_url("get_object", Params={{"Bucket": "b", "Key": "k"}})
try:
    session.client("sns")
    refused = ""
except botocore.exceptions.UnknownServiceError as error:
    refused = type(error).__name__
print(json.dumps({{"made": made, "table": table.name, "url": url, "refused": refused}}))
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(site)}  # no AWS_* of this run: the SDK's defaults
    command = [sys.executable, "-I", "-B", "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert set(report["made"]) == _listed()
    assert report["table"] == "media"
    assert "/b/k?" in report["url"] and "%2Feu-west-1%2Fs3%2Faws4_request" in report["url"], report["url"]
    assert "X-Amz-Signature=" in report["url"]
    assert report["refused"] == "UnknownServiceError"
