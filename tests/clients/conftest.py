"""The `media` CLI against a real local stack (moto-backed AWS + the HTTP gateway on 127.0.0.1, the
pollers processing uploads as Lambda would). The multipart threshold and part size are lowered to
S3's 5 MiB minimum so a multipart upload takes a few small parts."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from media_pipeline_client.cli import main

from local_stack.stack import LocalStack
from local_stack.token import issue_token
from tests.support.local_stack import running_stack

MIB = 1024 * 1024
PARAMS = {"MultipartThresholdBytes": str(5 * MIB), "MultipartPartBytes": str(5 * MIB)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("client-stack"), pollers=True, params=PARAMS) as running:
        yield running


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Cli:
    """`media …` in-process, as `user`, with the connection settings from the environment."""

    def __init__(self, stack: LocalStack, user: str, state_dir: Path) -> None:
        self.stack = stack
        self.user = user
        self.token = issue_token(stack.data_dir, user, False)
        self.state_dir = state_dir

    def __call__(self, *args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        argv = list(args)
        if argv and argv[0] == "upload":
            argv += ["--state-dir", str(self.state_dir)]
        code = main(argv, stdout=out, stderr=err)
        return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Cli:
    user = f"cli-{request.node.name[:40]}".replace("_", "-")
    runner = Cli(stack, user, tmp_path / "state")
    monkeypatch.setenv("MEDIA_API_URL", stack.api_url)
    monkeypatch.setenv("MEDIA_TOKEN", runner.token)
    # Nothing of the developer's own profile or cache is read or written.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MEDIA_PROFILE", raising=False)
    monkeypatch.delenv("MEDIA_CONFIG", raising=False)
    return runner
