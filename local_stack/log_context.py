"""Each invocation's log context, kept to its own thread.

Every function's `Logger()` has the same service name, so in one process they share one Python
logger and one Powertools formatter, and `inject_lambda_context` writes each invocation's keys
(function name, request id, cold start, correlation id) into that formatter's one dict. On Lambda
each function has a process of its own; here a processor, a schedule and an API request run at
once in threads, and one would log another's context. `keep_log_context_per_thread()` gives the
formatter a copy of those keys per thread, starting from the keys set at import, and
`FunctionLogContext` gives each function its own keys while it runs, kept between its invocations
as in its own execution environment (so a cleanup run after an API request in the same thread does
not log the request's correlation id)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter


class _KeysPerThread:
    """Mixed in before a Powertools formatter class: its `log_format`, the keys every record gets
    (read, updated and replaced by append_keys, remove_keys and clear_state), is per thread."""

    _keys_at_import: dict[str, Any]
    _threads: threading.local

    @property
    def log_format(self) -> dict[str, Any]:
        threads = self._threads
        if not hasattr(threads, "keys"):
            threads.keys = dict(self._keys_at_import)
        keys: dict[str, Any] = threads.keys
        return keys

    @log_format.setter
    def log_format(self, keys: dict[str, Any]) -> None:
        self._threads.keys = keys


_FORMATTERS: list[LambdaPowertoolsFormatter] = []


class FunctionLogContext:
    """One function's log keys: in force in the thread that runs it while it runs."""

    def __init__(self) -> None:
        self._keys: dict[int, dict[str, Any]] = {}

    @contextmanager
    def entered(self) -> Iterator[None]:
        outside = [(formatter, formatter.log_format) for formatter in _FORMATTERS]
        for formatter in _FORMATTERS:
            at_import: dict[str, Any] = vars(formatter)["_keys_at_import"]
            formatter.log_format = self._keys.get(id(formatter), dict(at_import))
        try:
            yield
        finally:
            for formatter, keys in outside:
                # clear_state may have replaced the dict: keep whatever the invocation left
                self._keys[id(formatter)] = formatter.log_format
                formatter.log_format = keys


def keep_log_context_per_thread() -> None:
    """Every Powertools formatter of the process's loggers keeps its keys per thread (idempotent)."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            formatter = handler.formatter
            if isinstance(formatter, LambdaPowertoolsFormatter) and not isinstance(formatter, _KeysPerThread):
                _per_thread(formatter)


def _per_thread(formatter: LambdaPowertoolsFormatter) -> None:
    keys = vars(formatter).pop("log_format")
    formatter.__class__ = type(f"{type(formatter).__name__}PerThread", (_KeysPerThread, type(formatter)), {})
    vars(formatter).update(_keys_at_import=keys, _threads=threading.local())
    _FORMATTERS.append(formatter)
