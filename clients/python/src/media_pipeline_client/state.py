"""Resume state of multipart uploads: one small JSON file per upload in a state directory, written
atomically after every part, so an interrupted upload (Ctrl-C, a killed process, a lost network)
picks up where it stopped. The server's ListParts answer stays the authority on what S3 has;
the file only remembers which upload belongs to which local file."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def default_state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "media-pipeline" / "uploads"


@dataclass
class UploadState:
    api_url: str
    path: str
    size: int
    mtime_ns: int
    media_id: str
    upload_id: str
    part_size: int
    part_count: int
    etags: dict[str, str] = field(default_factory=dict)  # part number (JSON keys are strings) → ETag


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    @staticmethod
    def key(api_url: str, path: Path, size: int, mtime_ns: int) -> str:
        # The same file (path, size, modification time) against the same API; a changed file
        # starts a new upload rather than mixing old and new bytes.
        identity = json.dumps([api_url, str(path.resolve()), size, mtime_ns])
        return hashlib.sha256(identity.encode()).hexdigest()[:32]

    def _file(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def load(self, key: str) -> UploadState | None:
        try:
            raw: dict[str, Any] = json.loads(self._file(key).read_text(encoding="utf-8"))
            return UploadState(**raw)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, key: str, state: UploadState) -> None:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self._file(key)
            partial = target.with_suffix(f".{threading.get_ident()}.tmp")
            partial.write_text(json.dumps(asdict(state)), encoding="utf-8")
            partial.replace(target)  # atomic: a kill never leaves half a file

    def drop(self, key: str) -> None:
        with self._lock:
            self._file(key).unlink(missing_ok=True)
