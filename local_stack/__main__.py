"""`python -m local_stack` (`make run`): start the local stack and run until Ctrl-C / SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from local_stack.paths import REPO_ROOT, EnvSettings
from local_stack.stack import LocalStack


def main() -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    settings = EnvSettings.from_env(REPO_ROOT)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("local_stack").info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(
        REPO_ROOT / "template.yaml",
        REPO_ROOT,
        settings.aws_port,
        settings.api_port,
        settings.data_dir,
        schedules=settings.schedules,
        pollers=settings.pollers,
    )
    try:
        stack.start()
    except OSError as err:
        logging.getLogger("local_stack").error(
            "cannot start: %s (is a port taken? set MEDIA_LOCAL_AWS_PORT / MEDIA_LOCAL_API_PORT)", err
        )
        return 1
    try:
        print(stack.banner(), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        stack.stop()
        print("Local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
