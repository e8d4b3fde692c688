"""Settings of the local stack that come from the environment (all optional)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AWS_PORT = 4566
DEFAULT_API_PORT = 3000
DEFAULT_DATA_DIR = ".data/local"


def data_dir_from_env(repo_root: Path = REPO_ROOT) -> Path:
    """MEDIA_LOCAL_DATA_DIR; a relative path is taken from the repository root, whatever the cwd."""
    raw = Path(os.environ.get("MEDIA_LOCAL_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    return raw if raw.is_absolute() else repo_root / raw


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    port = int(raw)
    if not 0 <= port <= 65535:
        raise ValueError(f"{name}={raw} is not a port")
    return port


def _flag(name: str) -> bool:
    """On unless set to 0/false/no/off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class EnvSettings:
    aws_port: int
    api_port: int
    data_dir: Path
    schedules: bool
    pollers: bool

    @classmethod
    def from_env(cls, repo_root: Path = REPO_ROOT) -> EnvSettings:
        return cls(
            aws_port=_port("MEDIA_LOCAL_AWS_PORT", DEFAULT_AWS_PORT),
            api_port=_port("MEDIA_LOCAL_API_PORT", DEFAULT_API_PORT),
            data_dir=data_dir_from_env(repo_root),
            schedules=_flag("MEDIA_LOCAL_SCHEDULES"),
            pollers=_flag("MEDIA_LOCAL_POLLERS"),
        )
