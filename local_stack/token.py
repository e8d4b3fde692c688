"""`python -m local_stack.token alice [--admin]`: a bearer ID token the running local stack accepts.

The token is the last line on stdout; usage hints go to stderr, so `TOKEN=$(...)` captures only it.

The local gateway also offers dev sign-in to the browser page (`web/`): `POST /_local/token` with
`{"username": "alice", "admin": false}` answers `{"id_token": ..., "expires_in": ...}` signed by the
same key (see `DevSignIn`). It exists only in the local stack, never in the template or on AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.auth import DEFAULT_TOKEN_TTL_SECONDS, SigningKey, id_token_claims, user_sub
from local_stack.paths import DEFAULT_API_PORT, REPO_ROOT, data_dir_from_env
from local_stack.resolve import PARAM_ENV_PREFIX
from local_stack.template import load_template

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def admin_group(template_path: Path = REPO_ROOT / "template.yaml") -> str:
    """The template's AdminGroup parameter (default or MEDIA_LOCAL_PARAM_AdminGroup)."""
    override = os.environ.get(f"{PARAM_ENV_PREFIX}AdminGroup")
    if override:
        return override
    try:
        spec = (load_template(template_path).get("Parameters") or {}).get("AdminGroup") or {}
    except (OSError, ValueError):
        spec = {}
    return str(spec.get("Default", "admin"))


def issue_token(
    data_dir: Path,
    username: str,
    admin: bool = False,
    *,
    groups: tuple[str, ...] = (),
    ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS,
    admin_group_name: str | None = None,
    now: int | None = None,
) -> str:
    """An RS256 ID token for `username` signed with the data directory's key (made on first use)."""
    if not _USERNAME.match(username):
        raise ValueError(f"unusable username {username!r}")
    all_groups = list(groups)
    if admin:
        all_groups.append(admin_group_name or admin_group())
    claims = id_token_claims(username, list(dict.fromkeys(all_groups)), ttl_seconds, now)
    return SigningKey.load(data_dir).sign(claims)


class DevSignInError(ValueError):
    """A dev sign-in request the local gateway refuses with 400; the message says why."""


@dataclass(frozen=True)
class DevSignIn:
    """Local-only stand-in for Cognito's hosted sign-in: any well-formed username gets an ID token
    (optionally in the admin group). Bound to 127.0.0.1 with the rest of the local stack."""

    data_dir: Path
    admin_group_name: str = "admin"
    ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS

    def answer(self, body: bytes) -> dict[str, Any]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise DevSignInError('the body must be JSON: {"username": "alice", "admin": false}') from None
        if not isinstance(request, dict):
            raise DevSignInError("the body must be a JSON object")
        username = request.get("username")
        admin = request.get("admin", False)
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise DevSignInError(
                "username: 1-128 characters, letters, digits and . _ @ + - (starting with a letter or digit)"
            )
        if not isinstance(admin, bool):
            raise DevSignInError("admin: must be true or false")
        token = issue_token(
            self.data_dir,
            username,
            admin,
            ttl_seconds=self.ttl_seconds,
            admin_group_name=self.admin_group_name,
        )
        return {
            "id_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl_seconds,
            "username": username,
            "sub": user_sub(username),
            "admin": admin,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.token", description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--admin", action="store_true", help="add the admin group")
    parser.add_argument("--group", action="append", default=[], help="another cognito:groups entry")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TOKEN_TTL_SECONDS, help="lifetime in seconds")
    args = parser.parse_args(argv)
    data_dir = data_dir_from_env()
    try:
        token = issue_token(
            data_dir, args.username, args.admin, groups=tuple(args.group), ttl_seconds=args.ttl
        )
    except ValueError as err:
        parser.error(str(err))
    api = f"http://127.0.0.1:{os.environ.get('MEDIA_LOCAL_API_PORT') or DEFAULT_API_PORT}"
    hint = (
        f"# ID token for {args.username} (sub {user_sub(args.username)}"
        f"{', admin' if args.admin else ''}), valid {args.ttl} s, signed by {data_dir}.\n"
        f'# Use it as: curl -H "Authorization: Bearer $TOKEN" {api}/media/<media_id>\n'
    )
    sys.stderr.write(hint)
    sys.stderr.flush()
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
