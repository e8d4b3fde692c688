"""Writing a run's variants to the media bucket, and taking them back if the run fails."""

from __future__ import annotations

from pathlib import Path

from media_core.domain.keys import variant_key
from media_core.domain.models import Variant
from media_core.ports import ObjectStorage


class VariantWriter:
    """Writes variants under media/{owner}/{media_id}/{run_id}/ and remembers every key, so a
    failed run leaves nothing half-written behind."""

    def __init__(self, store: ObjectStorage, bucket: str, owner: str, media_id: str, run_id: str) -> None:
        self._store = store
        self._bucket = bucket
        self._owner = owner
        self._media_id = media_id
        self._run_id = run_id
        self.written: list[str] = []

    def key(self, name: str, extension: str) -> str:
        return variant_key(self._owner, self._media_id, self._run_id, name, extension)

    def put_bytes(
        self, name: str, data: bytes, *, content_type: str, extension: str, **attributes: object
    ) -> Variant:
        key = self.key(name, extension)
        self.written.append(key)
        self._store.put(self._bucket, key, data, content_type=content_type)
        return Variant.model_validate(
            {"key": key, "content_type": content_type, "bytes": len(data), **attributes}
        )

    def put_file(
        self, name: str, path: Path, *, content_type: str, extension: str, **attributes: object
    ) -> Variant:
        key = self.key(name, extension)
        self.written.append(key)
        with path.open("rb") as fileobj:
            self._store.upload_file(self._bucket, key, fileobj, content_type=content_type)
        return Variant.model_validate(
            {"key": key, "content_type": content_type, "bytes": path.stat().st_size, **attributes}
        )

    def discard(self) -> None:
        self._store.delete_keys(self._bucket, self.written)
        self.written.clear()
