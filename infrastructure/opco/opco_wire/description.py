"""The one description of the dossier on the wire: the body of POST /v{n}/dossiers, block by block.

Each key names its type, where it comes from in our Cerfa, which real client was seen sending it (opco-wire.md
§2.2 CerFacil, §2.2b Wedof) and, where it depends on one, the unknown of docs/wire.md that decides it. The client's
translation (`outbound`), its reverse (`inbound`) and the sandbox's validation (`validation`) all walk this tree, so
that what we send and what the sandbox takes cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from infrastructure.opco.opco_wire.sources import (
    GUARDIAN_ADDRESS,
    STREET_LINE,
    TRAINING_PLACE,
    Derived,
    Fixed,
    Nowhere,
    Path,
    Source,
    first,
)
from infrastructure.opco.opco_wire.variants import Client


class Kind(StrEnum):
    TEXT = "text"  # a JSON string
    CODE = "code"  # a code of the Cerfa's lists, a JSON number (Wedof types them so)
    CODE_TEXT = "code-text"  # a code with letters or meaningful zeros (2A, 1486, SMIC), a JSON string
    COUNT = "count"  # a whole number: hours, minutes, head count
    BOOL = "bool"
    DATE = "date"  # a day, written with a time and an offset (variants.DateForm)
    AMOUNT = "amount"  # a decimal JSON number: euros, percentages
    RNCP = "rncp"  # the RNCP code, with or without its prefix (variants.WireVariant.rncp_prefix)


BOTH: Final = frozenset({Client.CERFACIL, Client.WEDOF})
CERFACIL: Final = frozenset({Client.CERFACIL})
WEDOF: Final = frozenset({Client.WEDOF})
NEITHER: Final[frozenset[Client]] = frozenset()


@dataclass(frozen=True, slots=True)
class VariantValue:
    """A value the variant decides (versionCERFA)."""

    attribute: str

    @property
    def label(self) -> str:
        return f"WireVariant.{self.attribute}"


@dataclass(frozen=True, slots=True)
class WireField:
    name: str
    kind: Kind
    source: Source | VariantValue
    seen: frozenset[Client] = BOTH
    required: bool = False  # the sandbox refuses a dossier without it (its own minimal checks)
    unknown: str | None = None  # the unknown of docs/wire.md this field depends on
    aliases: tuple[str, ...] = ()  # other spellings seen, all read and taken
    named_by: str | None = None  # the WireVariant attribute that says which spelling is sent
    only_if: str | None = None  # a WireVariant flag that must be true for the key to be sent
    width: int = 0  # a code our Cerfa writes zero-padded to this width ("01")


@dataclass(frozen=True, slots=True)
class WireBlock:
    name: str
    source: Path | Derived  # our object for this block
    members: tuple[WireField | WireBlock, ...]
    seen: frozenset[Client] = BOTH
    repeated: bool = False  # a list of such objects
    unknown: str | None = None


Member = WireField | WireBlock


def _f(
    name: str, kind: Kind = Kind.TEXT, source: Source | VariantValue | str | None = None, **options: object
) -> WireField:
    origin = Path(source or name) if source is None or isinstance(source, str) else source
    return WireField(name, kind, origin, **options)  # type: ignore[arg-type]


def _address(name: str = "adresse", source: Path | Derived | None = None) -> WireBlock:
    return WireBlock(
        name,
        source or Path("adresse"),
        (
            _f("adresse1", source=STREET_LINE, unknown="U11"),
            _f("adresse2", source="complement"),
            _f("codePostal", Kind.CODE_TEXT),
            _f("commune"),
        ),
    )


EMPLOYEUR: Final = WireBlock(
    "employeur",
    Path("employeur"),
    (
        _f("nom", source=Nowhere(), unknown="U8"),
        _f("prenom", source=Nowhere(), unknown="U8"),
        _f("denomination"),
        _f("typeEmployeur", Kind.CODE),
        _f("employeurSpecifique", Kind.CODE),
        _f("caisseComplementaire", source=first("caisseComplementaire", "/contrat.caisseRetraiteComplementaire")),
        _f("regimeSpecifique", Kind.BOOL),
        _f("attestationEligibilite", Kind.BOOL, first("attestationEligibilite", "/maitre1.attestationEligibilite")),
        _f("attestationPieces", Kind.BOOL),
        _f("siret", Kind.CODE_TEXT, required=True),
        _f("naf", Kind.CODE_TEXT),
        _f("nombreDeSalaries", Kind.COUNT),
        _f("codeIdcc", Kind.CODE_TEXT),
        _f("libelleIdcc", seen=CERFACIL),
        _f("telephone", Kind.CODE_TEXT),
        _f("courriel"),
        _address(),
    ),
)

RESPONSABLE_LEGAL: Final = WireBlock(
    "responsableLegal",
    Path("responsableLegal"),
    (_f("nom"), _f("prenom"), _f("courriel"), _address(source=GUARDIAN_ADDRESS)),
    unknown="U12",
)

APPRENTI: Final = WireBlock(
    "apprenti",
    Path("apprenti"),
    (
        _f("nom", required=True),
        _f("nomUsage"),
        _f("prenom", required=True),
        _f("sexe", Kind.CODE_TEXT),
        _f("nationalite", Kind.CODE),
        _f("dateNaissance", Kind.DATE, required=True),
        _f("departementNaissance", Kind.CODE_TEXT),
        _f("communeNaissance"),
        _f("nir", Kind.CODE_TEXT),
        _f("regimeSocial", Kind.CODE),
        _f("handicap", Kind.BOOL),
        _f("situationAvantContrat", Kind.CODE),
        _f("diplome", Kind.CODE),
        _f("derniereClasse", Kind.CODE, unknown="U9", width=2),
        _f("diplomePrepare", Kind.CODE),
        _f("intituleDiplomePrepare"),
        _f("telephone", Kind.CODE_TEXT),
        _f("courriel"),
        _address(),
        RESPONSABLE_LEGAL,
        _f("inscriptionSportifDeHautNiveau", Kind.BOOL),
        _f("projetCreationRepriseEntreprise", Kind.BOOL),
        _f("droitsRqthExtensionBOE", Kind.BOOL, Nowhere(), seen=WEDOF),
        _f("droitsRqthEquivalenceJeune", Kind.BOOL, Nowhere(), seen=WEDOF),
    ),
)


def _maitre(name: str) -> WireBlock:
    return WireBlock(
        name,
        Path(name),
        (
            _f("nom"),
            _f("prenom"),
            _f("dateNaissance", Kind.DATE),
            _f("nir", Kind.CODE_TEXT, seen=CERFACIL),
            _f("courriel"),
            _f("emploiOccupe"),
            _f("intituleDiplomeObtenu", source="diplome"),
            _f("niveauDiplomeObtenu", Kind.CODE, "niveauDiplome"),
        ),
        unknown="U5" if name == "maitre2" else None,
    )


FORMATION: Final = WireBlock(
    "formation",
    Path("formation"),
    (
        _f("rncp", Kind.RNCP, required=True, unknown="U3"),
        _f("codeDiplome", Kind.CODE_TEXT),
        _f("typeDiplome", Kind.CODE),
        _f("intituleQualification"),
        _f("dateDebutFormation", Kind.DATE),
        _f("dateFinFormation", Kind.DATE),
        _f("dureeFormation", Kind.COUNT),
        _f("nombreHeuresEnDistanciel", Kind.COUNT, seen=WEDOF),
    ),
)

REMUNERATION: Final = WireBlock(
    "remunerationsAnnuelles",
    Path("remunerationsAnnuelles"),
    (
        _f("dateDebut", Kind.DATE),
        _f("dateFin", Kind.DATE),
        _f("taux", Kind.AMOUNT),
        _f("typeSalaire", Kind.CODE_TEXT),
        _f("ordre", Kind.CODE_TEXT),
    ),
    repeated=True,
)

CONTRAT: Final = WireBlock(
    "contrat",
    Path("contrat"),
    (
        _f("modeContractuel", Kind.CODE),
        _f("typeContratApp", Kind.CODE),
        _f("numeroContratPrecedent", Kind.CODE_TEXT),
        _f("noContrat", Kind.CODE_TEXT, seen=CERFACIL),
        _f("noAvenant", seen=CERFACIL, unknown="U13"),
        _f("dateConclusion", Kind.DATE),
        _f("dateDebutContrat", Kind.DATE, required=True),
        _f("dateFormationPratiqueEmployeur", Kind.DATE, "dateDebutFormationPratique"),
        _f("dateFinContrat", Kind.DATE, required=True),
        _f("dateEffetAvenant", Kind.DATE),
        _f("dateRupture", Kind.DATE, seen=CERFACIL),
        _f("lieuSignatureContrat"),
        _f("typeDerogation", Kind.CODE),
        _f("dureeTravailHebdoHeures", Kind.COUNT),
        _f("dureeTravailHebdoMinutes", Kind.COUNT),
        _f("travailRisque", Kind.BOOL),
        _f("salaireEmbauche", Kind.AMOUNT),
        _f("avantageNourriture", Kind.AMOUNT),
        _f("avantageLogement", Kind.AMOUNT),
        _f("autreAvantageEnNature", Kind.BOOL),
        REMUNERATION,
    ),
)

ORGANISME_FORMATION: Final = WireBlock(
    "organismeFormation",
    Path("organismeFormation"),
    (
        _f("denomination"),
        _f("formationInterne", Kind.BOOL, first("formationInterne", "/formation.formationInterne")),
        _f("siret", Kind.CODE_TEXT, required=True),
        _f("uaiCfa", Kind.CODE_TEXT),
        _f("visaCfa", Kind.BOOL, seen=CERFACIL),
        _address(),
        _f("lieuFormationIdentique", Kind.BOOL, "/etablissementFormation.memeResponsable"),
    ),
)

LIEU_FORMATION: Final = WireBlock(
    "organismeFormationLieuFormationPrincipal",
    TRAINING_PLACE,
    (_f("denomination"), _f("siret", Kind.CODE_TEXT), _f("uaiCfa", Kind.CODE_TEXT), _address()),
    unknown="U12",
)

DOSSIER_NUMBER: Final = Derived(
    "the dossier's numeroInterne (REST API), not a field of the Cerfa",
    lambda here, root: root.get("numeroInterne"),
    Path("/numeroInterne"),
)
SIGNATURE_KEYS: Final = ("CERFAsignatureProbante", "CERFASignatureProbante")
ETAT_ON_SUBMISSION: Final = "TRANSMIS"  # U14: the state a dossier is sent in (CerFacil; Wedof sends none)
SIGNATURE_PROBANTE: Final = True  # U10: what both clients attest, whatever the signature

DOSSIER: Final = WireBlock(
    "cerfa",
    Path("/"),
    (
        _f("numeroInterne", source=DOSSIER_NUMBER, seen=NEITHER, unknown="U7", only_if="numero_interne_in_body"),
        EMPLOYEUR,
        APPRENTI,
        _maitre("maitre1"),
        _maitre("maitre2"),
        FORMATION,
        CONTRAT,
        ORGANISME_FORMATION,
        LIEU_FORMATION,
        _f("etat", source=Fixed("the state of a dossier sent", ETAT_ON_SUBMISSION), seen=CERFACIL, unknown="U14"),
        _f("commentaireEtat", source=Nowhere(), seen=CERFACIL),
        _f("versionCERFA", source=VariantValue("version_cerfa"), unknown="U1"),
        _f(
            SIGNATURE_KEYS[0],
            Kind.BOOL,
            Fixed("attested by the sender", SIGNATURE_PROBANTE),
            aliases=SIGNATURE_KEYS[1:],
            named_by="signature_key",
            unknown="U2",
        ),
    ),
)
"""The `cerfa` object of the body; `maitre2` may sit beside it (variants.WireVariant.maitre2_beside_cerfa)."""

MAITRE2: Final = "maitre2"
