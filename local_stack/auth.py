"""The local stand-in for Cognito: an RSA signing key in the data directory, ID tokens shaped like
Cognito's, and the checks API Gateway's Cognito authorizer makes (signature, expiry, audience,
issuer, token_use)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local_stack import LOCAL_CLIENT_ID

KEY_FILE = "jwt-signing-key.pem"
CLIENT_ID = LOCAL_CLIENT_ID  # the audience: Ref of the template's user pool client
ISSUER = "http://127.0.0.1/cognito-local/us-east-1_medialocal"
DEFAULT_TOKEN_TTL_SECONDS = 3600
# Stable subjects: the same username always gets the same `sub` (and so owns the same media).
SUB_NAMESPACE = uuid.UUID("4c2b7d0e-5e0a-4c7e-9a63-6d6f63616c21")


class AuthError(Exception):
    """The authorizer rejects the request; `message` is what API Gateway answers with."""

    def __init__(self, message: str = "Unauthorized") -> None:
        super().__init__(message)
        self.message = message


def _create_key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another process just made
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


@dataclass(frozen=True)
class SigningKey:
    private_pem: bytes

    @classmethod
    def load(cls, data_dir: Path) -> SigningKey:
        """The data directory's key, created (mode 0600) on first use."""
        path = data_dir / KEY_FILE
        if not path.exists():
            _create_key(path)
        return cls(path.read_bytes())

    @property
    def _private(self) -> Any:
        return serialization.load_pem_private_key(self.private_pem, password=None)

    @property
    def public_pem(self) -> bytes:
        return bytes(
            self._private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    @property
    def kid(self) -> str:
        return hashlib.sha256(self.public_pem).hexdigest()[:16]

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self._private, algorithm="RS256", headers={"kid": self.kid})


def user_sub(username: str) -> str:
    return str(uuid.uuid5(SUB_NAMESPACE, username))


def id_token_claims(
    username: str,
    groups: Sequence[str] = (),
    ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS,
    now: int | None = None,
) -> dict[str, Any]:
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "sub": user_sub(username),
        "cognito:username": username,
        "email": f"{username}@example.test",
        "email_verified": True,
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "event_id": str(uuid.uuid4()),
        "jti": str(uuid.uuid4()),
    }
    if groups:
        claims["cognito:groups"] = list(groups)
    return claims


class Authorizer:
    """Verifies a bearer ID token as API Gateway's Cognito user pool authorizer does."""

    def __init__(self, public_pem: bytes, leeway_seconds: int = 0) -> None:
        self._public_pem = public_pem
        self._leeway = leeway_seconds

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The request context's `authorizer.claims` (all strings), or AuthError."""
        if not authorization or not authorization.strip():
            raise AuthError()
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            decoded = jwt.decode(
                token,
                self._public_pem,
                algorithms=["RS256"],
                audience=CLIENT_ID,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("The incoming token has expired") from None
        except jwt.PyJWTError:
            raise AuthError() from None
        if decoded.get("token_use") != "id":
            raise AuthError()
        return stringify_claims(decoded)


def _date(epoch: Any) -> str:
    # API Gateway REST renders numeric dates like "Thu Nov 21 10:00:00 UTC 2024".
    t = time.gmtime(int(epoch))
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", t)


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """REST API Gateway passes every claim as a string: dates rendered, groups comma-joined."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if key in ("exp", "iat", "auth_time"):
            out[key] = _date(value)
        elif isinstance(value, bool):
            out[key] = str(value).lower()
        elif isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


__all__ = [
    "CLIENT_ID",
    "ISSUER",
    "AuthError",
    "Authorizer",
    "SigningKey",
    "id_token_claims",
    "stringify_claims",
    "user_sub",
]
