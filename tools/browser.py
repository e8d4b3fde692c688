"""The Chrome/Chromium the end-to-end tests drive (through Playwright's bundled driver).

    python -m tools.browser            # find or install one; prints its path (`make browser`)
    python -m tools.browser --find     # find only, never install

Order, so that nothing asks for sudo behind the user's back:
  0. $MEDIA_E2E_CHROMIUM, when set (an explicit choice: an error if it is not there);
  1. an installed Chrome/Chromium: on PATH, then the usual locations (macOS app bundles in
     /Applications and ~/Applications, Linux /usr/bin/..., /opt/google/chrome, /snap/bin);
     then a Chromium a previous `playwright install chromium` left in Playwright's cache;
  2. `playwright install chromium` (downloads from Playwright's CDN; fails fast on a closed
     network and we go on); MEDIA_BROWSER_DOWNLOAD=0 skips it;
  3. Debian's `chromium` package through apt-get, only when already running as root;
  otherwise a message says what to install. tests/e2e/conftest.py uses locate() (no installs).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ENV_OVERRIDE = "MEDIA_E2E_CHROMIUM"
ENV_DOWNLOAD = "MEDIA_BROWSER_DOWNLOAD"
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MACOS_BUNDLES = (
    "Google Chrome.app/Contents/MacOS/Google Chrome",
    "Chromium.app/Contents/MacOS/Chromium",
    "Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
)
LINUX_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/snap/bin/chromium",
)
DEBIAN_PACKAGE = "chromium"
# A download of ~150 MB on a slow line; a closed network fails in seconds anyway.
PLAYWRIGHT_INSTALL_TIMEOUT = 900.0


class BrowserNotFound(RuntimeError):
    """No usable Chrome/Chromium, and none could be installed without asking for privileges."""


def _system() -> str:
    return platform.system().lower()


def candidate_paths(system: str | None = None) -> list[Path]:
    """The usual install locations for this OS, most likely first."""
    system = system or _system()
    if system == "darwin":
        roots = [Path("/Applications"), Path.home() / "Applications"]
        return [root / bundle for bundle in MACOS_BUNDLES for root in roots]
    if system == "linux":
        return [Path(p) for p in LINUX_PATHS]
    return []


def find_installed(system: str | None = None) -> Path | None:
    """A Chrome/Chromium already on this machine (PATH first: it is the user's own choice)."""
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    for path in candidate_paths(system):
        if path.exists():
            return path
    return None


def playwright_executable() -> Path | None:
    """The Chromium a previous `playwright install chromium` put in Playwright's cache, if any."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            path = Path(pw.chromium.executable_path)
    except Exception:  # no playwright package, or its driver cannot start: not a browser source
        return None
    return path if path.exists() else None


def override() -> Path | None:
    raw = os.environ.get(ENV_OVERRIDE, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.exists():
        raise BrowserNotFound(f"{ENV_OVERRIDE}={raw} does not exist (unset it to search the usual places)")
    return path


def locate(system: str | None = None) -> Path | None:
    """A browser that is already there; never installs anything (for the tests)."""
    return override() or find_installed(system) or playwright_executable()


def playwright_install() -> bool:
    """`playwright install chromium`; False (not an exception) when the network does not allow it."""
    if os.environ.get(ENV_DOWNLOAD, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        result = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"],
            capture_output=True,
            text=True,
            timeout=PLAYWRIGHT_INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        _note(f"playwright install chromium did not run: {err}")
        return False
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[:1]
        _note(f"playwright install chromium failed ({' '.join(tail) or result.returncode}); going on")
        return False
    return True


def is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    return geteuid is not None and geteuid() == 0


def apt_install(system: str | None = None) -> bool:
    """Debian's chromium, only on Linux with apt-get and only when we already are root: never sudo."""
    if (system or _system()) != "linux" or not is_root() or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", DEBIAN_PACKAGE],
    ):
        result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            _note(f"{' '.join(args)} failed: {result.stderr.strip()[-500:]}")
            return False
    return True


def install_hint(system: str | None = None) -> str:
    system = system or _system()
    if system == "darwin":
        how = "install Google Chrome (https://www.google.com/chrome/) or `brew install --cask chromium`"
    elif system == "linux":
        how = (
            "install Chromium or Chrome with your package manager, e.g. `sudo apt-get install chromium` "
            "(Debian), `sudo dnf install chromium` (Fedora), or Google Chrome's .deb/.rpm"
        )
    else:
        how = "install Google Chrome or Chromium"
    return f"{how}; or point {ENV_OVERRIDE} at a Chrome/Chromium executable"


def ensure(system: str | None = None) -> Path:
    """Find a browser, else install one in the order of the module docstring."""
    system = system or _system()
    found = locate(system)
    if found:
        return found
    if playwright_install():
        found = playwright_executable()
        if found:
            return found
    if apt_install(system):
        found = find_installed(system)
        if found:
            return found
    raise BrowserNotFound(f"no Chrome/Chromium for the e2e tests: {install_hint(system)}")


def _note(message: str) -> None:
    print(f"browser: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Find (or install) the browser for the e2e tests.")
    parser.add_argument("--find", action="store_true", help="only look; never install")
    args = parser.parse_args(argv)
    try:
        path = locate() if args.find else ensure()
    except BrowserNotFound as err:
        _note(str(err))
        return 1
    if path is None:
        _note(f"no Chrome/Chromium found: {install_hint()}")
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
