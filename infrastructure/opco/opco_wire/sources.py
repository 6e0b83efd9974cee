"""Where a field of the wire comes from in our Cerfa, and where it goes back to.

A source reads a value from `here` (our object for the enclosing wire block) or from the Cerfa's root, and writes a
value read from an OPCO back to the same place. Paths are dotted; a leading "/" starts at the root.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

Doc = dict[str, Any]
View = Mapping[str, Any]


class Source(Protocol):
    @property
    def label(self) -> str:
        """For docs/wire.md: the field(s) of our Cerfa."""
        ...

    def read(self, here: View, root: View) -> Any: ...

    def write(self, here: Doc, root: Doc, value: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Path:
    path: str

    @property
    def label(self) -> str:
        return self.path.lstrip("/")

    def read(self, here: View, root: View) -> Any:
        value: Any = root if self.path.startswith("/") else here
        for name in self.label.split("."):
            value = value.get(name) if isinstance(value, Mapping) else None
        return value

    def write(self, here: Doc, root: Doc, value: Any) -> None:
        *parents, leaf = self.label.split(".")
        _walk(root if self.path.startswith("/") else here, parents)[leaf] = value

    def target(self, here: Doc, root: Doc) -> Doc:
        """The object at this path (a block read back), made when absent."""
        return _walk(root if self.path.startswith("/") else here, self.label.split("."))


def _walk(start: Doc, names: list[str]) -> Doc:
    target = start
    for name in names:
        nested = target.get(name)
        if not isinstance(nested, dict):
            nested = target[name] = {}
        target = nested
    return target


@dataclass(frozen=True, slots=True)
class First:
    """The first of several places that holds a value; read back into the first."""

    paths: tuple[Path, ...]

    @property
    def label(self) -> str:
        return ", else ".join(path.label for path in self.paths)

    def read(self, here: View, root: View) -> Any:
        return next((value for path in self.paths if (value := path.read(here, root)) is not None), None)

    def write(self, here: Doc, root: Doc, value: Any) -> None:
        self.paths[0].write(here, root, value)


def first(*paths: str) -> First:
    return First(tuple(Path(path) for path in paths))


@dataclass(frozen=True, slots=True)
class Derived:
    """A value computed from ours; read back, it goes to `back`, or is split into ours by `writer`."""

    label: str
    reader: Callable[[View, View], Any]
    back: Path
    writer: Callable[[Doc, Doc, Any], None] | None = None

    def read(self, here: View, root: View) -> Any:
        return self.reader(here, root)

    def write(self, here: Doc, root: Doc, value: Any) -> None:
        if self.writer is None:
            self.back.write(here, root, value)
        else:
            self.writer(here, root, value)

    def target(self, here: Doc, root: Doc) -> Doc:
        return self.back.target(here, root)


@dataclass(frozen=True, slots=True)
class Fixed:
    """A value of the sender, not of the Cerfa (the state the dossier is sent in); read back it is dropped."""

    label: str
    value: Any

    def read(self, here: View, root: View) -> Any:
        return self.value

    def write(self, here: Doc, root: Doc, value: Any) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Nowhere:
    """A key of the wire that our Cerfa does not hold: never sent with a value, dropped when read back."""

    label: str = "none in our Cerfa"

    def read(self, here: View, root: View) -> Any:
        return None

    def write(self, here: Doc, root: Doc, value: Any) -> None:
        return None


# --- adresse1: the street line, from our split fields ------------------------------------------------------------

_STREET: Final = re.compile(r"(?P<numero>\d{1,5})\s*(?P<repetition>[BTQC])?\b\s*(?P<voie>.*)", re.IGNORECASE)


def _street_line(here: View, root: View) -> str | None:
    parts = [str(here[name]) for name in ("numero", "repetitionVoie", "voie") if here.get(name) is not None]
    return " ".join(parts) or None


def _split_street_line(here: Doc, root: Doc, value: Any) -> None:
    match = _STREET.fullmatch(value)
    if match is None or not match["voie"]:
        here["voie"] = value
        return
    here["numero"] = int(match["numero"])
    if match["repetition"]:
        here["repetitionVoie"] = match["repetition"].upper()
    here["voie"] = match["voie"]


STREET_LINE: Final = Derived(
    "numero, repetitionVoie, voie (joined by spaces)", _street_line, Path("voie"), _split_street_line
)


# --- the legal representative's address: theirs, or the apprentice's when it is the same ------------------------


def _guardian_address(here: View, root: View) -> Any:
    if here.get("adresse") is not None:
        return here["adresse"]
    if here.get("memeAdresse"):
        return Path("/apprenti.adresse").read(here, root)
    return None


GUARDIAN_ADDRESS: Final = Derived(
    "apprenti.responsableLegal.adresse, else apprenti.adresse when memeAdresse",
    _guardian_address,
    Path("adresse"),
)


# --- the main training place: sent only when it is not the CFA's own (Wedof) ---------------------------------------


def _training_place(here: View, root: View) -> Any:
    place = Path("/etablissementFormation").read(here, root)
    return place if isinstance(place, Mapping) and place.get("memeResponsable") is False else None


TRAINING_PLACE: Final = Derived(
    "etablissementFormation, when memeResponsable is false",
    _training_place,
    Path("/etablissementFormation"),
)
