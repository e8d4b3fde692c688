"""Where the API URL and token come from, each on its own: the command-line flag, else the
environment (MEDIA_API_URL, MEDIA_TOKEN), else a profile of the config file

    # ~/.config/media-pipeline/config.toml  (or $MEDIA_CONFIG)
    [profile.default]
    api_url = "http://127.0.0.1:3000"
    token = "eyJ…"

chosen with --profile or MEDIA_PROFILE ("default" otherwise)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    api_url: str
    token: str

    def __repr__(self) -> str:  # never the token
        return f"Settings(api_url={self.api_url!r}, token=<hidden>)"


def config_path() -> Path:
    if os.environ.get("MEDIA_CONFIG"):
        return Path(os.environ["MEDIA_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "media-pipeline" / "config.toml"


def _profile(path: Path, name: str, required: bool) -> dict[str, str]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise ConfigError(f"profile {name!r}: no config file at {path}") from None
        return {}
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err
    profiles = document.get("profile", {})
    if name not in profiles:
        if required:
            raise ConfigError(f"{path} has no [profile.{name}]")
        return {}
    return {k: str(v) for k, v in profiles[name].items() if k in ("api_url", "token")}


def resolve(api_url: str | None, token: str | None, profile: str | None) -> Settings:
    name = profile or os.environ.get("MEDIA_PROFILE") or "default"
    explicit = bool(profile or os.environ.get("MEDIA_PROFILE"))
    api_url = api_url or os.environ.get("MEDIA_API_URL")
    token = token or os.environ.get("MEDIA_TOKEN")
    if explicit or not (api_url and token):
        stored = _profile(config_path(), name, required=explicit)
        api_url = api_url or stored.get("api_url")
        token = token or stored.get("token")
    if not api_url:
        raise ConfigError("no API URL: pass --api-url, set MEDIA_API_URL or add api_url to a profile")
    if not token:
        raise ConfigError("no token: pass --token, set MEDIA_TOKEN or add token to a profile")
    return Settings(api_url.rstrip("/"), token)
