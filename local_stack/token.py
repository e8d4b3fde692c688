"""`python -m local_stack.token alice [--admin]`: a bearer ID token the running local stack accepts.

The token is the last line on stdout; usage hints go to stderr, so `TOKEN=$(...)` captures only it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

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
