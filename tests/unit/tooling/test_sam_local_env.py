"""`make sam-local-env`: SAM's --env-vars file points every function at the local stack's emulator,
with the names `make run` provisions, and SAM CLI really applies it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from local_stack.paths import REPO_ROOT
from local_stack.template import load_template
from tests.support.local_stack import running_stack
from tools import sam_local_env

TEMPLATE = REPO_ROOT / "template.yaml"
SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"


def _declared() -> dict[str, set[str]]:
    """Every function's environment variable names as template.yaml declares them (Globals included)."""
    template = load_template(TEMPLATE)
    globals_vars = set(template["Globals"]["Function"]["Environment"]["Variables"])
    return {
        lid: globals_vars | set(((res["Properties"].get("Environment") or {}).get("Variables")) or {})
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="module")
def document() -> dict[str, dict[str, str]]:
    return sam_local_env.env_vars(TEMPLATE, parameter_overrides={})


def test_every_variable_of_every_function_has_a_value(document: dict[str, dict[str, str]]) -> None:
    # Given the names template.yaml declares per function, Globals merged
    declared = _declared()
    # When generating the env-vars file
    # Then each function has an entry holding all of them, as resolved strings (no intrinsics left)
    assert set(document) == {*declared, "Parameters"}
    functions = [
        r for r in load_template(TEMPLATE)["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(declared) == len(functions) >= 9
    for lid, names in declared.items():
        assert names <= set(document[lid]), f"{lid} misses {sorted(names - set(document[lid]))}"
        for name in names:
            value = document[lid][name]
            assert isinstance(value, str) and "Ref" not in value and "Fn::" not in value, (lid, name, value)


def test_every_function_points_at_the_emulator_as_a_container_sees_it(
    document: dict[str, dict[str, str]],
) -> None:
    # Given the default file (emulator on make run's port 4566, Docker Desktop's host name)
    # Then every function talks to it, path-style, with the emulator's credentials, and tracing off
    for lid, env in document.items():
        assert env["AWS_ENDPOINT_URL"] == "http://host.docker.internal:4566", lid
        assert env["S3_ADDRESSING_STYLE"] == "path"
        assert env["AWS_ACCESS_KEY_ID"] == "testing-local-stack"
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    # And queue URLs are on that same endpoint
    assert document["ManageFunction"]["IMAGE_QUEUE_URL"] == (
        "http://host.docker.internal:4566/123456789012/media-local-ImageQueue"
    )


def test_port_and_host_are_configurable() -> None:
    # Given another emulator port and the Linux host-network setup
    # When generating
    doc = sam_local_env.env_vars(TEMPLATE, port=4999, host="127.0.0.1", parameter_overrides={})
    # Then the endpoint and the queue URLs follow
    assert doc["UploadsFunction"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4999"
    assert doc["ManageFunction"]["AV_QUEUE_URL"].startswith("http://127.0.0.1:4999/")


PER_RUN = {
    "CDN_PRIVATE_KEY_SECRET_ARN",
    "TRANSFORM_SIGNING_KEYS_SECRET_ARN",
    "CDN_DISTRIBUTION_ID",
    "CDN_KEY_PAIR_ID",
}


def test_names_are_the_ones_the_local_stack_provisions(tmp_path: Path) -> None:
    # Given the local stack running (as `make run` does) and the file generated for its API port
    with running_stack(tmp_path / "data", pollers=False) as stack:
        assert stack.gateway is not None
        doc = sam_local_env.env_vars(TEMPLATE, api_port=stack.gateway.port, parameter_overrides={})
        in_process = dict(os.environ)  # what the stack gave its in-process functions
        provisioned_queue_paths = {urlparse(url).path for url in stack.queues.values()}
        tables, buckets = set(stack.tables.values()), set(stack.buckets.values())
        buses = set(stack.provisioned.event_buses.values())
    # Then tables, buckets, buses and queues are the provisioned ones...
    for lid, names in _declared().items():
        env = doc[lid]
        assert env["TABLE_NAME"] in tables and env["EVENT_BUS_NAME"] in buses
        assert {env["UPLOADS_BUCKET"], env["MEDIA_BUCKET"]} <= buckets
        for name in names:
            if name.endswith("_QUEUE_URL"):
                assert urlparse(env[name]).path in provisioned_queue_paths, (lid, name)
            if name in PER_RUN:
                continue  # secrets and the distribution the local CDN makes anew for each run
            # ...and every template variable equals the stack's own value (queue URLs: same path)
            expected = in_process[name]
            got = env[name]
            if name.endswith("_QUEUE_URL"):
                expected, got = urlparse(expected).path, urlparse(got).path
            if name == "CDN_BASE_URL":  # the gateway, as a container reaches it: same port and path
                want, have = urlparse(expected), urlparse(got)
                expected, got = f"{want.port}{want.path}", f"{have.port}{have.path}"
            assert got == expected, (lid, name)
    assert tables == {"media-local-MediaTable"}


def test_template_copy_declares_every_variable_with_absolute_paths(
    document: dict[str, dict[str, str]],
) -> None:
    # Given the env-vars document
    # When deriving the template `sam local -t` uses
    derived = sam_local_env.sam_local_template(TEMPLATE, document)
    # Then each function declares all of its variables (SAM drops undeclared --env-vars entries),
    # the template's own values are untouched, and code paths work from anywhere
    resources = derived["Resources"]
    for lid, env in document.items():
        if lid != "Parameters":
            variables = resources[lid]["Properties"]["Environment"]["Variables"]
            assert set(variables) >= set(env), lid
            assert variables["AWS_ENDPOINT_URL"] == "http://host.docker.internal:4566"
    assert resources["UploadsFunction"]["Properties"]["Environment"]["Variables"][
        "UPLOAD_URL_TTL_SECONDS"
    ] == {"Ref": "UploadUrlTtlSeconds"}
    assert resources["UploadsFunction"]["Properties"]["CodeUri"] == str(REPO_ROOT / "functions/uploads")
    assert resources["MediaCoreLayer"]["Properties"]["ContentUri"] == str(REPO_ROOT / "layers/media_core")


def test_a_stale_build_is_pointed_out(tmp_path: Path) -> None:
    # Given a build older than the template
    built = tmp_path / sam_local_env.BUILT_TEMPLATE
    built.parent.mkdir(parents=True)
    built.write_text("Resources: {}\n")
    source = tmp_path / "template.yaml"
    source.write_text("Resources: {}\n")
    os.utime(built, (1_000_000, 1_000_000))
    # When choosing what to derive the sam local template from
    chosen, note = sam_local_env.template_source(source, tmp_path)
    # Then the build is used (its layers are laid out for Lambda) but the user is told to rebuild
    assert chosen == built
    assert "make build" in note


def test_cli_writes_both_files(tmp_path: Path) -> None:
    # Given output paths
    out, template_out = tmp_path / "env.json", tmp_path / "template.json"
    # When running the command with a port
    code = sam_local_env.main(["--port", "4600", "--out", str(out), "--template-out", str(template_out)])
    # Then both are valid JSON on that port
    assert code == 0
    assert (
        json.loads(out.read_text())["QueryFunction"]["AWS_ENDPOINT_URL"] == "http://host.docker.internal:4600"
    )
    assert "Resources" in json.loads(template_out.read_text())


SAM_PROBE = """
import json, sys
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
template, env_file = sys.argv[1:3]
stacks, _ = SamLocalStackProvider.get_stacks(template)
runner = LocalLambdaRunner.__new__(LocalLambdaRunner)  # only its env-vars logic: no Docker
runner.env_vars_values = json.load(open(env_file))
runner.get_aws_creds = lambda: {}
runner.is_debugging = lambda: False
print(json.dumps({f.name: runner._make_env_vars(f).resolve() for f in SamFunctionProvider(stacks).get_all()}))
"""


def _sam_resolves(template: Path, env_file: Path) -> dict[str, dict[str, Any]]:
    if not SAM_PYTHON.is_file():
        pytest.fail(f"{SAM_PYTHON} is missing: run `make sam-venv`", pytrace=False)
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", SAM_PROBE, str(template), str(env_file)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_sam_cli_applies_every_value_with_the_template_copy(tmp_path: Path) -> None:
    # Given the generated env-vars file and template copy
    out, template_out = tmp_path / "env.json", tmp_path / "template.json"
    sam_local_env.main(
        ["--out", str(out), "--template-out", str(template_out), "--template-source", str(TEMPLATE)]
    )
    wanted = json.loads(out.read_text())
    # When SAM CLI's own code computes each function's container environment
    resolved = _sam_resolves(template_out, out)
    # Then every generated value is what the container gets, the endpoint included
    assert set(resolved) == set(wanted) - {"Parameters"}
    for lid, env in resolved.items():
        assert {k: env.get(k) for k in wanted[lid]} == wanted[lid], lid


def test_sam_cli_drops_the_endpoint_without_the_template_copy(tmp_path: Path) -> None:
    # Given the env-vars file but the plain template.yaml (why --template-out exists)
    out = tmp_path / "env.json"
    sam_local_env.main(["--out", str(out)])
    # When SAM CLI computes the environment
    resolved = _sam_resolves(TEMPLATE, out)
    # Then the names arrive but AWS_ENDPOINT_URL does not: the function would call real AWS
    assert resolved["UploadsFunction"]["TABLE_NAME"] == "media-local-MediaTable"
    assert "AWS_ENDPOINT_URL" not in resolved["UploadsFunction"]
