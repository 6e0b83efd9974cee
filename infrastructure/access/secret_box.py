"""Seals secrets with Fernet (AES-128-CBC + HMAC-SHA256) under a key from the settings."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class FernetBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._digest_key = hashlib.sha256(b"convergence digest\0" + key).digest()  # not the sealing key itself

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError(
                "a sealed secret does not open with this key: was CONVERGENCE_SECRET_KEY changed?"
            ) from None

    def digest(self, secret: str) -> str:
        return hmac.new(self._digest_key, secret.encode(), hashlib.sha256).hexdigest()


def key_from_file(path: Path) -> bytes:
    """The key kept in `path`, created (mode 0600) on first use: the embedded default needs nothing configured."""
    if not path.exists():
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
    return path.read_bytes().strip()
