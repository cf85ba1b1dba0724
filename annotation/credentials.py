"""Secrets (API token, admin password): from the environment or a file only readable by its owner.

Why so strict: a token on a command line is visible to every user of the machine (`ps`), and one in
a log ends up in CI artefacts. So tokens are read from `MMDIAL_LS_TOKEN`, or from a file named by
`MMDIAL_LS_TOKEN_FILE` (or the server's own token file), and a file readable by group or others is
refused rather than used.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

TOKEN_ENV = "MMDIAL_LS_TOKEN"
TOKEN_FILE_ENV = "MMDIAL_LS_TOKEN_FILE"


class CredentialError(RuntimeError):
    """A secret is missing or stored unsafely."""


def new_token() -> str:
    """A legacy API token: 40 hex characters (Label Studio's token key column holds 40)."""
    return secrets.token_hex(20)


def new_password() -> str:
    return secrets.token_urlsafe(18)


def write_secret(path: str | os.PathLike, value: str) -> None:
    """Write `value` to `path` with mode 0600 from the start (no window where it is world-readable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_secret(path: str | os.PathLike) -> str:
    """Read a secret file, refusing one that group or others may read or write."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise CredentialError(f"secret file {path} does not exist") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(f"secret file {path} has mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600 (chmod 600 {path})")
    value = path.read_text().strip()
    if not value:
        raise CredentialError(f"secret file {path} is empty")
    return value


def resolve_token(default_file: str | os.PathLike | None = None) -> str:
    """The API token: $MMDIAL_LS_TOKEN, else the file $MMDIAL_LS_TOKEN_FILE, else `default_file`."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    if value:
        return value
    path = os.environ.get(TOKEN_FILE_ENV) or default_file
    if not path:
        raise CredentialError(
            f"no API token: set {TOKEN_ENV}, or {TOKEN_FILE_ENV} to a 0600 file, or give --data-dir of a server started by mmdial"
        )
    return read_secret(path)


def redact(text: str, *secrets_: str) -> str:
    """`text` with every given secret replaced, for error messages that quote server output."""
    for s in secrets_:
        if s:
            text = text.replace(s, "***")
    return text
