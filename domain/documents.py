"""A document kept outside the event log: named by the SHA-256 of its content, its type read from the content
itself (the magic bytes, not what the sender says), its size within a limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidValue


class MediaType(StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", MediaType.PDF),
    (b"\xff\xd8\xff", MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """What an event keeps of a document."""

    digest: str  # SHA-256, lowercase hex
    media_type: MediaType
    size: int

    @classmethod
    def of(cls, content: bytes, media_type: MediaType) -> DocumentRef:
        return cls(hashlib.sha256(content).hexdigest(), media_type, len(content))


def media_type_of(content: bytes) -> MediaType | None:
    return next((media for magic, media in _MAGIC if content.startswith(magic)), None)


def describe(content: bytes, max_bytes: int, accepted: frozenset[MediaType] = frozenset(MediaType)) -> DocumentRef:
    """The reference of an acceptable document; InvalidValue on `document` otherwise."""
    if not content:
        raise InvalidValue("document", "document_empty", "the document is empty")
    if len(content) > max_bytes:
        raise InvalidValue(
            "document", "document_too_large", f"the document has {len(content)} bytes, more than {max_bytes}"
        )
    media_type = media_type_of(content)
    if media_type is None or media_type not in accepted:
        names = ", ".join(sorted(m.name for m in accepted))
        found = f"a {media_type.name}" if media_type else "of no known type"
        raise InvalidValue("document", "document_type", f"the document is {found} by its content; {names} expected")
    return DocumentRef.of(content, media_type)


def is_digest(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
