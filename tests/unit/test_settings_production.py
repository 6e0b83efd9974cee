"""In production every host must share the secret key: one made on first use would be this host's alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infrastructure.settings import Settings
from tests.support import DATA_KEYS, SECRET_KEY


def production(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        database_url="postgresql://convergence@db/convergence",
        environment="production",
        secret_key_file=tmp_path / "secret.key",
        data_keys=DATA_KEYS,
        _env_file=None,
        **values,  # type: ignore[arg-type]
    )


def test_production_refuses_to_start_without_a_shared_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONVERGENCE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="needs the secret key that seals the OPCO credentials"):
        production(tmp_path)
    assert not (tmp_path / "secret.key").exists()  # nothing made on the way


def test_production_takes_the_key_from_the_settings_or_from_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONVERGENCE_SECRET_KEY", raising=False)
    assert production(tmp_path, secret_key=SECRET_KEY).secret_key is not None
    (tmp_path / "secret.key").write_text(SECRET_KEY)
    assert production(tmp_path).secret_key_file.is_file()
