"""The master keyring: the keys that encrypt everything the service stores (events, snapshots, memos, documents,
the apprentices' data keys), each named by an id.

The first key of the ring writes; every key reads. A ciphertext starts with the id of the key that made it, so a new
key put first (rotation) never needs the history rewritten: what older keys wrote stays readable as long as they
stay on the ring. The keys come from the settings (`CONVERGENCE_DATA_KEYS`) or a key file
(`CONVERGENCE_DATA_KEYS_FILE`), never from the code: one `id:base64-key` per line (or comma-separated), 32 bytes each.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

MAGIC = b"\x01K"  # never the first bytes of JSON (events, memos written before encryption) nor of a PDF/JPEG/PNG
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class KeyringError(ValueError):
    pass


@dataclass(frozen=True)
class Keyring:
    """Keys by id, the first one writing. Each key encrypts with the event library's own cipher (AES-256-GCM,
    `eventsourcing.cryptography.AESCipher`); the ring adds the key id in front."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the keyring holds no key")
        for ident, key in self.keys:
            if not _ID.match(ident):
                raise KeyringError(f"a key id is 1 to 32 letters, digits, '_', '.' or '-': {ident!r}")
            if len(key) != 32:
                raise KeyringError(f"the key {ident!r} is {len(key)} bytes, not 32")
        if len({ident for ident, _ in self.keys}) != len(self.keys):
            raise KeyringError("two keys of the keyring share an id")

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, ident: str) -> bytes | None:
        return next((key for known, key in self.keys if known == ident), None)

    def encrypt(self, plaintext: bytes) -> bytes:
        ident = self.keys[0][0]
        return MAGIC + bytes([len(ident)]) + ident.encode() + self._cipher(ident).encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        if not is_sealed(ciphertext):
            raise KeyringError("not a ciphertext of the keyring")
        size = ciphertext[2]
        ident = ciphertext[3 : 3 + size].decode()
        if self.key(ident) is None:
            raise KeyringError(
                f"the key {ident!r} that encrypted this is not on the keyring: keep old keys after a rotation"
            )
        try:
            return self._cipher(ident).decrypt(ciphertext[3 + size :])
        except ValueError:
            raise KeyringError(f"a ciphertext does not open with the key {ident!r}: altered, or another key") from None

    def _cipher(self, ident: str) -> AESCipher:
        ciphers = self.__dict__.setdefault("_ciphers", {})
        if ident not in ciphers:
            encoded = base64.b64encode(self.key(ident) or b"").decode()
            ciphers[ident] = AESCipher(Environment(env={AESCipher.CIPHER_KEY: encoded}))
        cipher: AESCipher = ciphers[ident]
        return cipher

    def key_id_of(self, ciphertext: bytes) -> str | None:
        return ciphertext[3 : 3 + ciphertext[2]].decode() if is_sealed(ciphertext) else None

    def serialise(self) -> str:
        return ",".join(f"{ident}:{base64.b64encode(key).decode()}" for ident, key in self.keys)


def is_sealed(data: bytes) -> bool:
    return len(data) > 3 and data[:2] == MAGIC


def parse_keyring(text: str) -> Keyring:
    """`id:base64,id:base64` or one per line; blank lines and `#` comments ignored."""
    keys: list[tuple[str, bytes]] = []
    for raw in re.split(r"[,\n]", text):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        ident, separator, encoded = entry.partition(":")
        if not separator:
            raise KeyringError("each key of the keyring is written id:base64-key")
        try:
            keys.append((ident.strip(), base64.b64decode(encoded.strip(), validate=True)))
        except ValueError:
            raise KeyringError(f"the key {ident.strip()!r} is not base64") from None
    return Keyring(tuple(keys))


def new_key_line(ident: str) -> str:
    return f"{ident}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def keyring_from_file(path: Path, *, create: bool) -> Keyring:
    """The keyring kept in `path`; made (mode 0600, its directory 0700 when made here) on first use when `create`.
    Made whole under another name, then linked: processes starting together all read the same one key."""
    if not path.exists() and create:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(new_key_line("k1") + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: its key is the one
        finally:
            temporary.unlink(missing_ok=True)
    return parse_keyring(path.read_text())
