"""The local-only dev sign-in (`POST /_local/token`): the stand-in for Cognito's sign-in that the
page uses; never part of the template. It issues admin tokens to whoever asks, so it answers only
on this machine and only to a loopback Host header (a rebound DNS name cannot reach it)."""

from __future__ import annotations

import json
import logging

from local_stack.token import DevSignIn, DevSignInError

log = logging.getLogger("local_stack.gateway")

DEV_SIGN_IN_PATH = "/_local/token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_CLIENTS = ("127.0.0.1", "::1")


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": code, "message": message}).encode()


def sign_in_answer(
    sign_in: DevSignIn, *, method: str, host_header: str, client_ip: str, body: bytes | None
) -> tuple[int, bytes]:
    """(status, JSON body) of a dev sign-in request."""
    host = (
        host_header.rsplit(":", 1)[0].lower()
        if not host_header.startswith("[")
        else host_header.split("]")[0] + "]"
    )
    if host not in LOOPBACK_HOSTS or client_ip not in LOOPBACK_CLIENTS:
        return _error(403, "forbidden", "loopback only")
    if method != "POST":
        return _error(405, "method_not_allowed", "POST")
    try:
        if body is None:
            raise DevSignInError("the body is too large")
        answer = sign_in.answer(body)
    except DevSignInError as err:
        return _error(400, "validation_error", str(err))
    log.info("dev sign-in: %s%s", answer["username"], " (admin)" if answer["admin"] else "")
    return 200, json.dumps(answer).encode()
