"""Which browser the e2e tests get on each developer platform, and that nothing asks for sudo."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools import browser
from tools.browser import BrowserNotFound

PLATFORMS = [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"), ("Darwin", "x86_64")]
LINUX = [p for p in PLATFORMS if p[0] == "Linux"]
MACOS = [p for p in PLATFORMS if p[0] == "Darwin"]
HOME = "/Users/dev"
PLAYWRIGHT_CHROME = Path("/home/dev/.cache/ms-playwright/chromium-1255/chrome-linux64/chrome")


class FakeHost:
    """A machine as tools.browser sees it: OS/arch, PATH, files, euid, and the commands it runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, system: str, machine: str) -> None:
        self.on_path: dict[str, str] = {}
        self.files: set[str] = set()
        self.euid = 1000
        self.commands: list[list[str]] = []
        self.playwright_ok = False
        self.playwright_cached = False
        real_exists = Path.exists
        fake_roots = ("/Applications", HOME, "/usr/", "/opt/", "/snap/", "/home/dev")

        def exists(path: Path, *args: Any, **kwargs: Any) -> bool:
            text = str(path)
            if text.startswith(fake_roots):
                return text in self.files
            return real_exists(path, *args, **kwargs)

        def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            self.commands.append(list(args))
            if args[1:4] == ["-m", "playwright", "install"]:
                if not self.playwright_ok:
                    return subprocess.CompletedProcess(args, 1, "", "Error: Failed to download Chrome")
                self.playwright_cached = True
            if args[:2] == ["apt-get", "install"]:
                self.files.add("/usr/bin/chromium")
            return subprocess.CompletedProcess(args, 0, "", "")

        def playwright_executable() -> Path | None:
            return PLAYWRIGHT_CHROME if self.playwright_cached else None

        monkeypatch.setattr(platform, "system", lambda: system)
        monkeypatch.setattr(platform, "machine", lambda: machine)
        monkeypatch.setattr(shutil, "which", lambda name, *a, **k: self.on_path.get(name))
        monkeypatch.setattr(Path, "exists", exists)
        monkeypatch.setattr(Path, "home", classmethod(lambda cls: cls(HOME)))
        monkeypatch.setattr(os, "geteuid", lambda: self.euid, raising=False)
        monkeypatch.setattr(subprocess, "run", run)
        monkeypatch.setattr(browser, "playwright_executable", playwright_executable)
        monkeypatch.delenv(browser.ENV_OVERRIDE, raising=False)
        monkeypatch.delenv(browser.ENV_DOWNLOAD, raising=False)

    def with_apt(self) -> FakeHost:
        self.on_path["apt-get"] = "/usr/bin/apt-get"
        return self

    @property
    def ran_apt(self) -> bool:
        return any(c[0] == "apt-get" for c in self.commands)

    @property
    def ran_sudo(self) -> bool:
        return any("sudo" in c for c in self.commands)


@pytest.fixture(params=PLATFORMS, ids=lambda p: f"{p[0]}-{p[1]}")
def host(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    return FakeHost(monkeypatch, *request.param)


def _host(monkeypatch: pytest.MonkeyPatch, system: str, machine: str) -> FakeHost:
    return FakeHost(monkeypatch, system, machine)


# ---------------------------------------------------------------- (1) an installed browser
@pytest.mark.parametrize(("system", "machine"), MACOS)
def test_macos_google_chrome_app_is_used(monkeypatch: pytest.MonkeyPatch, system: str, machine: str) -> None:
    # Given a Mac with Google Chrome and Chromium in /Applications, nothing on PATH
    fake = _host(monkeypatch, system, machine)
    fake.files |= {
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
    }
    # When ensuring a browser
    found = browser.ensure()
    # Then it is Google Chrome's bundle executable, and nothing was run
    assert found == Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
    assert fake.commands == []


@pytest.mark.parametrize(("system", "machine"), MACOS)
def test_macos_chromium_in_the_users_applications(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    # Given a Mac whose only browser is Chromium installed per user (~/Applications)
    fake = _host(monkeypatch, system, machine)
    fake.files.add(f"{HOME}/Applications/Chromium.app/Contents/MacOS/Chromium")
    # When locating a browser
    # Then that bundle is found
    assert browser.locate() == Path(f"{HOME}/Applications/Chromium.app/Contents/MacOS/Chromium")


@pytest.mark.parametrize(("system", "machine"), LINUX)
def test_linux_browser_on_path_wins_over_the_usual_locations(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    # Given a Linux box with a user-installed chromium on PATH and Google Chrome in /usr/bin
    fake = _host(monkeypatch, system, machine)
    fake.on_path["chromium"] = "/home/dev/.local/bin/chromium"
    fake.files.add("/usr/bin/google-chrome")
    # When ensuring a browser
    # Then the PATH one is used (the user's own choice), nothing installed
    assert browser.ensure() == Path("/home/dev/.local/bin/chromium")
    assert fake.commands == []


@pytest.mark.parametrize(("system", "machine"), LINUX)
def test_linux_debian_chromium_found_off_path(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    # Given a Linux box with Debian's chromium but a PATH without /usr/bin
    fake = _host(monkeypatch, system, machine)
    fake.files |= {"/usr/bin/chromium", "/opt/google/chrome/chrome"}
    # When ensuring a browser
    # Then /usr/bin/chromium is used (first of the usual locations)
    assert browser.ensure() == Path("/usr/bin/chromium")


def test_linux_google_chrome_in_opt(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only Google Chrome's own install directory
    fake = _host(monkeypatch, "Linux", "x86_64")
    fake.files.add("/opt/google/chrome/chrome")
    # When locating
    # Then that executable is found
    assert browser.locate() == Path("/opt/google/chrome/chrome")


def test_explicit_override_is_used_first(host: FakeHost, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given MEDIA_E2E_CHROMIUM pointing at an existing browser, and another one on PATH
    host.files.add("/opt/chrome-for-testing/chrome")
    host.on_path["google-chrome"] = "/usr/bin/google-chrome"
    monkeypatch.setenv(browser.ENV_OVERRIDE, "/opt/chrome-for-testing/chrome")
    # When ensuring a browser
    # Then the explicit one is used
    assert browser.ensure() == Path("/opt/chrome-for-testing/chrome")


def test_missing_override_is_an_error_not_a_silent_fallback(
    host: FakeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given MEDIA_E2E_CHROMIUM naming a file that is not there, and a browser on PATH
    host.on_path["chromium"] = "/usr/bin/chromium"
    monkeypatch.setenv(browser.ENV_OVERRIDE, "/nowhere/chrome")
    # When locating
    # Then it says so instead of testing with another browser
    with pytest.raises(BrowserNotFound, match="MEDIA_E2E_CHROMIUM=/nowhere/chrome does not exist"):
        browser.locate()


# ---------------------------------------------------------------- (2) Playwright's download
def test_playwright_download_is_used_when_the_network_allows(host: FakeHost) -> None:
    # Given no installed browser and a network that lets Playwright download, as root with apt
    host.playwright_ok = True
    host.with_apt().euid = 0
    # When ensuring a browser
    found = browser.ensure()
    # Then Playwright's Chromium is used and apt-get never runs
    assert found == PLAYWRIGHT_CHROME
    assert [c[1:] for c in host.commands] == [["-m", "playwright", "install", "chromium"]]
    assert not host.ran_apt


def test_a_previous_playwright_download_is_found_without_running_anything(host: FakeHost) -> None:
    # Given Chromium already in Playwright's cache
    host.playwright_cached = True
    # When ensuring a browser
    # Then it is used without downloading again
    assert browser.ensure() == PLAYWRIGHT_CHROME
    assert host.commands == []


def test_download_can_be_switched_off(host: FakeHost, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given MEDIA_BROWSER_DOWNLOAD=0 and nothing installed, not root
    monkeypatch.setenv(browser.ENV_DOWNLOAD, "0")
    # When ensuring a browser
    with pytest.raises(BrowserNotFound):
        browser.ensure()
    # Then Playwright was not asked to download
    assert host.commands == []


def test_a_hanging_download_falls_through(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a Linux root box where `playwright install` times out
    fake = _host(monkeypatch, "Linux", "x86_64").with_apt()
    fake.euid = 0
    fake_run = subprocess.run

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if args[1:3] == ["-m", "playwright"]:
            raise subprocess.TimeoutExpired(args, kwargs.get("timeout") or 0)
        return fake_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    # When ensuring a browser
    # Then Debian's package is the next step
    assert browser.ensure() == Path("/usr/bin/chromium")


# ---------------------------------------------------------------- (3) apt-get, only as root
@pytest.mark.parametrize(("system", "machine"), LINUX)
def test_linux_root_with_apt_installs_debian_chromium_after_playwright_fails(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    # Given a closed network (Playwright fails), root, apt-get available, no browser
    fake = _host(monkeypatch, system, machine).with_apt()
    fake.euid = 0
    # When ensuring a browser
    found = browser.ensure()
    # Then Playwright was tried first, then Debian's chromium was installed and is used
    assert found == Path("/usr/bin/chromium")
    assert fake.commands[0][1:] == ["-m", "playwright", "install", "chromium"]
    assert fake.commands[1:] == [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ]


def test_no_root_means_no_apt_and_no_sudo_but_a_clear_message(host: FakeHost) -> None:
    # Given no browser, a closed network, apt-get present, and an ordinary user
    host.with_apt()
    # When ensuring a browser
    with pytest.raises(BrowserNotFound) as raised:
        browser.ensure()
    # Then nothing privileged ran, and the message says what to install
    assert not host.ran_apt and not host.ran_sudo
    message = str(raised.value)
    assert "MEDIA_E2E_CHROMIUM" in message
    if platform.system() == "Darwin":
        assert "brew install --cask chromium" in message
    else:
        assert "sudo apt-get install chromium" in message


@pytest.mark.parametrize(("system", "machine"), MACOS)
def test_macos_never_uses_apt_even_as_root(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    # Given a Mac (root, and an apt-get on PATH for whatever reason), nothing installed
    fake = _host(monkeypatch, system, machine).with_apt()
    fake.euid = 0
    # When ensuring a browser
    with pytest.raises(BrowserNotFound, match="Google Chrome"):
        browser.ensure()
    # Then apt-get was not run
    assert not fake.ran_apt


def test_cli_prints_the_path_or_explains(host: FakeHost, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no browser at first
    # When running the command
    missing = browser.main([])
    out = capsys.readouterr()
    host.on_path["google-chrome"] = "/usr/bin/google-chrome"
    found = browser.main(["--find"])
    # Then it fails with the hint, and later prints only the path (for $(shell ...) and scripts)
    assert missing == 1 and "no Chrome/Chromium" in out.err and out.out == ""
    assert found == 0 and capsys.readouterr().out == "/usr/bin/google-chrome\n"
