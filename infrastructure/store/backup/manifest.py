"""What a backup holds, written beside its parts: the service and layout versions, the store, when, and the SHA-256 of
each part, checked before anything is restored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = "convergence-backup/1"
NAME = "manifest.json"


class BackupError(Exception):
    """A backup cannot be taken, read or restored; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class Manifest:
    service_version: str
    layout_version: int
    store: str  # sqlite | postgresql
    created_at: str
    schema: str | None = None  # PostgreSQL: the schema the dump holds (None: the whole database)
    parts: dict[str, str] = field(default_factory=dict)  # path in the backup -> SHA-256
    format: str = FORMAT

    def write(self, root: Path) -> None:
        (root / NAME).write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, root: Path) -> Manifest:
        try:
            fields = json.loads((root / NAME).read_text())
        except (OSError, ValueError) as error:
            raise BackupError(f"not a Convergence backup: no readable {NAME} ({error})") from None
        if fields.get("format") != FORMAT:
            raise BackupError(f"not a backup this release reads: format {fields.get('format')!r}, expected {FORMAT}")
        return cls(**fields)

    def check(self, root: Path) -> None:
        """Every part there, with its checksum, and nothing else."""
        found = {str(path.relative_to(root)) for path in _files(root)} - {NAME}
        if found != set(self.parts):
            odd = sorted(found ^ set(self.parts))
            raise BackupError(f"the backup's parts differ from its manifest: {', '.join(odd)}")
        for name, digest in sorted(self.parts.items()):
            if sha256(root / name) != digest:
                raise BackupError(f"the backup's part {name} does not match its checksum: the backup is damaged")


def checksums(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): sha256(path) for path in _files(root) if path.name != NAME}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
