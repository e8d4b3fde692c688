"""`Type: Schedule` / `ScheduleV2` events: a thread per event invoking the function every N
seconds of its rate(...) expression. cron(...) expressions are not emulated (logged, skipped)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from local_stack.background import Background
from local_stack.functions import FunctionError, LocalFunction

log = logging.getLogger("local_stack.schedules")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> float | None:
    """Seconds between runs of a rate(...) expression; None for anything else (cron, at)."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Schedule(Background):
    """Calls `fire` every `interval` seconds (first call after one interval) until stopped."""

    def __init__(self, name: str, interval: float, fire: Callable[[], None]) -> None:
        self.name = name
        self.interval = interval
        self._fire = fire
        super().__init__(f"schedule-{name}")

    def _run(self) -> None:
        next_run = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, next_run - time.monotonic())):
            next_run += self.interval
            try:
                self._fire()
            except FunctionError:
                pass  # logged by the invocation; the next run is still due
            except Exception:  # a schedule never dies of one bad run
                log.exception("%s: scheduled invocation failed", self.name)


def scheduled_event(rule_arn: str, account: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def schedules_for(functions: Mapping[str, LocalFunction]) -> list[Schedule]:
    out = []
    for fn in functions.values():
        for event in fn.spec.events:
            if event.type not in ("Schedule", "ScheduleV2"):
                continue
            props = event.properties
            where = f"{fn.spec.logical_id}.{event.name}"
            if props.get("Enabled") is False or str(props.get("State", "ENABLED")).upper() == "DISABLED":
                log.info("%s: disabled in the template", where)
                continue
            expression = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
            interval = parse_rate(expression)
            if interval is None:
                log.warning("%s: %s is not emulated (only rate(...)); not scheduled", where, expression)
                continue
            out.append(Schedule(where, interval, _firer(fn, event.name, event.type, props, expression)))
    return out


def _firer(
    fn: LocalFunction, name: str, event_type: str, props: Mapping[str, Any], expression: str
) -> Callable[[], None]:
    arn_parts = fn.spec.arn.split(":")
    account, region = arn_parts[4], arn_parts[3]
    service = "scheduler" if event_type == "ScheduleV2" else "events"
    rule_arn = f"arn:aws:{service}:{region}:{account}:rule/{fn.spec.logical_id}{name}"

    def fire() -> None:
        if "Input" in props:
            payload: Any = json.loads(str(props["Input"]))
        elif event_type == "ScheduleV2":
            payload = {}
        else:
            payload = scheduled_event(rule_arn, account, region)
        fn.invoke(payload, f"schedule {name} {expression}")

    return fire
