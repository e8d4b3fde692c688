"""A daemon thread with a stop flag: the shape pollers and schedules share."""

from __future__ import annotations

import threading


class Background:
    """Runs `_run` on a daemon thread until `stop()`; subclasses loop on `self._stop`."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
