"""The shared layer ships bytecode Lambda can use (layers/media_core/Makefile).

`BuildMethod: python3.12` shipped bare .py files and `sam package` dates every zip entry
1980-01-01, so each cold start compiled every module again on a read-only /opt. These tests build
the layer's own part (`make layer-sources`, no download) into a scratch folder and check what a
Lambda cold start would find there."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "media_core"
SAM_EPOCH = 315_532_800  # 1980-01-01, the date sam package gives every zip entry

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 12), reason="the layer's bytecode is built by and for python3.12"
)


def _build(artifacts: Path) -> Path:
    subprocess.run(
        ["make", "-s", "-C", str(LAYER), "layer-sources", f"ARTIFACTS_DIR={artifacts}",
         f"PYTHON={sys.executable}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return artifacts / "python"


def _compiled_on_import(site: Path, module: str) -> list[str]:
    """The layer's sources compiled from source while importing `module` in a fresh interpreter
    that writes no bytecode (Lambda's /opt is read-only): none when the shipped .pyc are used."""
    script = (
        "import sys, importlib._bootstrap_external as ext\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "compiled = []\n"
        "original = ext.SourceLoader.source_to_code\n"
        "def source_to_code(self, data, path, **kw):\n"
        "    compiled.append(str(path))\n"
        "    return original(self, data, path, **kw)\n"
        "ext.SourceLoader.source_to_code = source_to_code\n"
        f"import {module}\n"
        f"print('\\n'.join(p for p in compiled if p.startswith({str(site)!r})))\n"
    )
    command = [sys.executable, "-I", "-B", "-c", script]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return result.stdout.split()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("layer"))


def test_the_template_builds_the_layer_with_its_makefile() -> None:
    layer = load_template(ROOT / "template.yaml")["Resources"]["MediaCoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert (LAYER / "Makefile").read_text().count("build-MediaCoreLayer:") == 1


def test_every_module_has_hash_checked_bytecode_for_312(site: Path) -> None:
    sources = sorted((site / "media_core").rglob("*.py"))
    assert len(sources) > 50
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.name.endswith(".cpython-312.pyc"), cached
        data = cached.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER, source
        flags = int.from_bytes(data[4:8], "little")
        assert flags == 0b11, f"{source}: not a checked-hash .pyc (flags {flags:#b})"  # PEP 552
        assert data[8:16] == importlib.util.source_hash(source.read_bytes()), source


def test_no_bytecode_without_its_source(site: Path) -> None:
    """A stale __pycache__ of the working tree (a deleted module's) is not shipped."""
    for cached in (site / "media_core").rglob("*.pyc"):
        assert (cached.parent.parent / (cached.name.split(".")[0] + ".py")).exists(), cached


def test_a_cold_start_uses_the_shipped_bytecode_whatever_the_timestamps(site: Path) -> None:
    for path in (site / "media_core").rglob("*"):
        os.utime(path, (SAM_EPOCH, SAM_EPOCH))  # what sam package gives every file
    assert _compiled_on_import(site, "media_core.wiring") == []
    assert _compiled_on_import(site, "media_core.api.http") == []


def test_a_changed_source_is_compiled_again_not_run_stale(tmp_path: Path, site: Path) -> None:
    copy = tmp_path / "python"
    shutil.copytree(site, copy)
    source = copy / "media_core" / "domain" / "paging.py"
    source.write_text(source.read_text() + "\n# changed after the build\n")
    assert _compiled_on_import(copy, "media_core.domain.paging") == [str(source)]
