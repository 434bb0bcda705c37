"""Mosquitto password-file lines, in the format ``mosquitto_passwd`` writes (mosquitto >= 2.0).

``user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>``. Mosquitto 2.0 uses 101
iterations and a 12-byte salt by default; the broker reads the iteration count from the
line, so a larger count is accepted too. tests/field checks the lines against the real broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from checkpoint.errors import ConfigError

ITERATIONS = 101  # mosquitto_passwd's default (PW_DEFAULT_ITERATIONS)
SALT_BYTES = 12


def new_password() -> str:
    """A random password for a machine user: 24 URL-safe characters (~143 bits)."""
    return secrets.token_urlsafe(18)


def hash_line(username: str, password: str, *, salt: bytes | None = None) -> str:
    """One line of a Mosquitto password file for ``username``."""
    if not username or ":" in username or "\n" in username:
        raise ConfigError(f"user name {username!r} cannot go into a password file")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    b64 = base64.b64encode
    return f"{username}:$7${ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def check_line(line: str, password: str) -> bool:
    """Whether ``line`` (``user:$7$...``) accepts ``password``; used to verify a file."""
    try:
        _user, encoded = line.strip().split(":", 1)
        _empty, kind, iterations, salt, digest = encoded.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(got, base64.b64decode(digest))
