"""The event library's cipher for the state of events and snapshots, over the master keyring: `CIPHER_TOPIC` names
this class and `CIPHER_KEYRING` carries the ring (infrastructure/store/event_store.py puts both in the application's
environment, never in the process's)."""

from __future__ import annotations

from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

from infrastructure.privacy.keyring import is_sealed, parse_keyring

TOPIC = "infrastructure.privacy.event_cipher:KeyringCipher"
KEYRING = "CIPHER_KEYRING"


class KeyringCipher(Cipher):
    def __init__(self, environment: Environment) -> None:
        text = environment.get(KEYRING)
        if not text:
            raise OSError(f"'{KEYRING}' not in the environment of the event store")
        self.keyring = parse_keyring(text)

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.keyring.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """States written before encryption (JSON in clear) are read as they are: the history is never rewritten."""
        if not is_sealed(ciphertext):
            return ciphertext
        return self.keyring.decrypt(ciphertext)
