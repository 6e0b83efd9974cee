"""Where the master keyring comes from: the settings, else the key file (made on first use outside production)."""

from __future__ import annotations

from infrastructure.privacy.keyring import Keyring, keyring_from_file, parse_keyring
from infrastructure.settings import Settings


def master_keyring(settings: Settings) -> Keyring:
    if settings.data_keys is not None:
        return parse_keyring(settings.data_keys.get_secret_value())
    return keyring_from_file(settings.data_keys_file, create=settings.environment != "production")
