"""The shared layer ships the AWS SDK the tests use, with only the service models the code calls
(layers/media_core/requirements.txt, sdk-services.txt, slim_sdk.py via the Makefile's
`layer-sdk-models`).

On Lambda /opt/python comes before the runtime's own boto3, and aws-xray-sdk brings botocore into
the layer: without boto3 pinned beside it, the runtime's boto3 ran on a botocore no test had run
it with. The trimmed models make a client of an unlisted service fail (UnknownServiceError), so
the list is checked against every client the code creates. The models also lose their
documentation, older API versions and examples, and endpoints.json the other services: checked
here to change nothing a client does, against the full SDK of this environment."""

from __future__ import annotations

import ast
import gzip
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
import slim_sdk  # layers/media_core/slim_sdk.py, the layer's build step

from bench.bench_cold_start import aws_stub, targets

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "media_core"
CODE = [LAYER / "media_core", ROOT / "functions"]
SDK_CALLS = {"client", "resource"}


def _listed() -> set[str]:
    return slim_sdk.listed(LAYER / "sdk-services.txt")


def _made_by_dependencies() -> dict[str, str]:
    """Service -> the package that creates its client ("xray  by aws_xray_sdk")."""
    lines = (LAYER / "sdk-services.txt").read_text().splitlines()
    words = [line.split() for line in lines if not line.startswith("#")]
    return {w[0]: w[2] for w in words if len(w) == 3 and w[1] == "by"}


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


def test_the_model_list_is_exactly_the_services_the_code_and_its_dependencies_call() -> None:
    called = _called()
    assert {"s3", "dynamodb", "sqs"} <= set(called), called  # the scan sees the clients
    missing = set(called) - _listed()
    assert not missing, f"not in sdk-services.txt (the layer would have no model): {missing} {called}"
    dependencies = _made_by_dependencies()
    assert dependencies == {"xray": "aws_xray_sdk"}  # its recorder's sampling client, at import
    unused = _listed() - set(called) - set(dependencies)
    assert not unused, f"sdk-services.txt lists models no code uses: {unused}"
    for service, package in dependencies.items():
        source = Path(str(importlib.import_module(package).__file__)).parent
        call = re.compile(rf"""(create_)?client\(\s*['"]{service}['"]""")
        assert any(call.search(p.read_text()) for p in source.rglob("*.py")), (service, package)


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
        ["make", "-s", "-C", str(LAYER), "layer-sdk-models", f"ARTIFACTS_DIR={artifacts}",
         f"PYTHON={sys.executable}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return artifacts / "python"


FULL_DATA = Path(str(botocore.__file__)).parent / "data"


def _json(path: Path) -> Any:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return json.loads(raw)


def _undocumented(node: Any) -> tuple[Any, int]:
    """The JSON without its "documentation" strings, and how many there were."""
    if isinstance(node, dict):
        kept, count = {}, 0
        for key, value in node.items():
            if key == "documentation" and isinstance(value, str):
                count += bool(value)
                continue
            kept[key], inner = _undocumented(value)
            count += inner
        return kept, count
    if isinstance(node, list):
        pairs = [_undocumented(value) for value in node]
        return [value for value, _ in pairs], sum(count for _, count in pairs)
    return node, 0


def test_only_the_listed_models_are_left(site: Path) -> None:
    kept = {p.name for p in (site / "botocore" / "data").iterdir() if p.is_dir()}
    assert kept == _listed()
    assert {p.name for p in (site / "boto3" / "data").iterdir() if p.is_dir()} == {"dynamodb", "s3", "sqs"}
    for shared in ("endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"):
        assert (site / "botocore" / "data" / shared).is_file(), shared
    for service in _listed():
        versions = [p.name for p in (site / "botocore" / "data" / service).iterdir()]
        newest = max(p.parent.name for p in (FULL_DATA / service).glob("*/service-2.json*"))
        assert versions == [newest], (service, versions)
    files = list((site / "botocore" / "data").rglob("*.json*"))
    assert not [f for f in files if f.name.endswith(".gz") or f.name.startswith("examples-")], files


def test_the_models_differ_from_the_full_sdk_only_in_documentation(site: Path) -> None:
    compared, emptied = 0, 0
    for path in (site / "botocore" / "data").glob("*/*/*.json"):
        relative = path.relative_to(site / "botocore" / "data")
        original = next(FULL_DATA.glob(f"{relative}*"))  # .json or .json.gz
        slim, left = _undocumented(_json(path))
        full, documented = _undocumented(_json(original))
        assert slim == full, relative
        assert left == 0, f"{relative}: {left} documentation strings left"
        compared, emptied = compared + 1, emptied + documented
    assert compared >= 3 * len(_listed()) and emptied > 5_000, (compared, emptied)


def test_endpoints_keep_every_partition_and_the_listed_services(site: Path) -> None:
    prefixes = {
        _json(next((site / "botocore" / "data" / name).glob("*/service-2.json")))["metadata"][
            "endpointPrefix"
        ]
        for name in _listed()
    }
    assert "states" in prefixes and "dynamodb" in prefixes  # stepfunctions' prefix is not its name
    slim = _json(site / "botocore" / "data" / "endpoints.json")
    full = _json(FULL_DATA / "endpoints.json")
    assert len(slim["partitions"]) == len(full["partitions"]) >= 5
    for kept, original in zip(slim["partitions"], full["partitions"], strict=True):
        assert {k: v for k, v in kept.items() if k != "services"} == {
            k: v for k, v in original.items() if k != "services"
        }
        assert kept["services"] == {k: v for k, v in original["services"].items() if k in prefixes}
    assert len(full["partitions"][0]["services"]) > 100 > len(slim["partitions"][0]["services"])


# What a client resolves, by partition: the same from the slim layer as from the full SDK.
RESOLVED = """
import json, sys
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
import boto3, botocore.config
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "us-iso-east-1"]
seen = {}
for region in REGIONS:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name=region)
    for name in json.loads(sys.argv[2]):
        for fips in (False, True):
            client = session.client(name, config=botocore.config.Config(use_fips_endpoint=fips))
            meta = client.meta
            seen[f"{region} {name} fips={fips}"] = [
                meta.endpoint_url, meta.region_name, meta.partition, meta.service_model.api_version,
                meta.service_model.signing_name, sorted(meta.service_model.operation_names),
            ]
    s3 = session.client("s3", config=botocore.config.Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "media-b", "Key": "k/1.jpg"})
    seen[f"{region} s3 presigned"] = [url.split("?")[0], url.split("X-Amz-Credential=")[1].split("&")[0]]
    meta = session.resource("dynamodb").Table("media").meta.client.meta
    seen[f"{region} dynamodb resource"] = [meta.endpoint_url, meta.service_model.api_version]
print(json.dumps(seen))
"""


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


def test_every_client_resolves_as_with_the_full_sdk_in_every_partition(site: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(site)}
    resolved = {}
    for where in (str(site), ""):  # "": this environment's full SDK
        command = [sys.executable, "-I", "-B", "-c", RESOLVED, where, json.dumps(sorted(_listed()))]
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        resolved[where] = json.loads(result.stdout)
    slim, full = resolved[str(site)], resolved[""]
    assert slim == full
    assert full["cn-north-1 dynamodb fips=False"][0] == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    assert full["us-gov-west-1 s3 fips=True"][0] == "https://s3-fips.us-gov-west-1.amazonaws.com"
    assert len(full) == 6 * (2 * len(_listed()) + 2)


# Lambda's sys.path for one function, with the slimmed SDK ahead of this environment's; imports
# the app as the init phase does and, for an API function, serves the benchmark's first request.
IMPORT_APP = """
import json, sys
sys.path[:0] = sys.argv[1:4]
import boto3, botocore
assert boto3.__file__.startswith(sys.argv[2]) and botocore.__file__.startswith(sys.argv[2])
import app
if sys.argv[4]:
    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "probe", 512, "probe"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
    print(app.handler(json.loads(sys.argv[4]), Context())["statusCode"])
"""


def test_every_function_starts_from_the_slimmed_sdk(site: Path) -> None:
    # Each function's template environment, as on Lambda (AWS_LAMBDA_INITIALIZATION_TYPE set:
    # the API functions build their clients at import); AWS is a stub on 127.0.0.1.
    with aws_stub() as endpoint:
        functions = [t for t in targets(endpoint) if t.kind not in ("baseline", "reference")]
        assert {t.name for t in functions} == {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
        failed = {}
        for target in functions:
            env = {**target.env, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "HOME": str(site)}
            command = [sys.executable, "-B", "-c", IMPORT_APP, str(target.code_dir), str(site), str(LAYER),
                       target.first_request]  # fmt: skip
            result = subprocess.run(command, cwd=target.code_dir, env=env, capture_output=True, text=True)
            answered = result.stdout.split()[-1:] == [str(target.first_status)] or not target.first_request
            if result.returncode != 0 or not answered:
                failed[target.name] = result.stderr[-1500:] or result.stdout[-500:]
    assert not failed, "\n\n".join(f"{name}:\n{error}" for name, error in sorted(failed.items()))


def test_older_api_versions_go_unless_a_resource_model_names_them(tmp_path: Path) -> None:
    for version in ("2011-12-05", "2012-08-10"):
        model = {"metadata": {"endpointPrefix": "dynamodb"}, "documentation": "<p>docs</p>"}
        (tmp_path / version).mkdir()
        (tmp_path / version / "service-2.json").write_text(json.dumps(model))
    (tmp_path / "2010-01-01").mkdir()  # rules only, no model: never a client's version
    (tmp_path / "2010-01-01" / "endpoint-rule-set-1.json").write_text("{}")

    assert slim_sdk.slim_model_folder(tmp_path, {"2011-12-05"}) == "dynamodb"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2011-12-05", "2012-08-10"]
    slim_sdk.slim_model_folder(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["2012-08-10"]
    assert json.loads((tmp_path / "2012-08-10" / "service-2.json").read_text())["documentation"] == ""
