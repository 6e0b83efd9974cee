"""The Cerfa FA13 n° 10103 (version 14) as the API Convergence blocks and field names write it.

Every field is optional: a draft may be incomplete, and `check_cerfa` says what is missing. Only rules about
one field live here (types, patterns, ranges); rules between fields are in `domain.cerfa.rules`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.cerfa.formats import (
    Amount,
    CodeDiplome,
    CodePostal,
    DepartementNaissance,
    DerniereClasse,
    Diplome,
    DistanceHours,
    Email,
    EmployeurSpecifique,
    Headcount,
    Idcc,
    IsoDate,
    Minutes,
    ModeContractuel,
    Naf,
    Nationalite,
    Nir,
    NiveauDiplome,
    NumeroDeca,
    NumeroVoie,
    OrdrePeriode,
    OuiNon,
    PersonName,
    Rate,
    RegimeSocial,
    RemunerationMajoration,
    RepetitionVoie,
    Rncp,
    Sexe,
    Siret,
    SituationAvantContrat,
    Telephone,
    Text,
    TrainingHours,
    TypeContratApp,
    TypeDerogation,
    TypeEmployeur,
    TypeSalaire,
    Uai,
    WeeklyHours,
)


class Block(BaseModel):
    """An unknown or misspelt field is refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Adresse(Block):
    numero: NumeroVoie | None = None
    repetitionVoie: RepetitionVoie | None = None
    voie: Text | None = None
    complement: Text | None = None
    codePostal: CodePostal | None = None
    commune: Text | None = None


class AdresseApprenti(Adresse):
    pays: Text | None = None


class Employeur(Block):
    privePublic: OuiNon | None = None
    denomination: Text | None = None
    siret: Siret | None = None
    adresse: Adresse | None = None
    telephone: Telephone | None = None
    courriel: Email | None = None
    typeEmployeur: TypeEmployeur | None = None
    employeurSpecifique: EmployeurSpecifique | None = None
    naf: Naf | None = None
    nombreDeSalaries: Headcount | None = None
    codeIdcc: Idcc | None = None
    libelleIdcc: Text | None = None
    caisseComplementaire: Text | None = None
    regimeSpecifique: OuiNon | None = None
    attestationEligibilite: OuiNon | None = None
    attestationPieces: OuiNon | None = None


class ResponsableLegal(Block):
    nom: PersonName | None = None
    prenom: PersonName | None = None
    courriel: Email | None = None
    memeAdresse: OuiNon | None = None
    adresse: AdresseApprenti | None = None


class Apprenti(Block):
    nom: PersonName | None = None
    nomUsage: PersonName | None = None
    prenom: PersonName | None = None
    sexe: Sexe | None = None
    dateNaissance: IsoDate | None = None
    lieuNaissanceFrance: OuiNon | None = None
    departementNaissance: DepartementNaissance | None = None
    communeNaissance: Text | None = None
    nir: Nir | None = None
    nationalite: Nationalite | None = None
    regimeSocial: RegimeSocial | None = None
    handicap: OuiNon | None = None
    inscriptionSportifDeHautNiveau: OuiNon | None = None
    projetCreationRepriseEntreprise: OuiNon | None = None
    situationAvantContrat: SituationAvantContrat | None = None
    diplome: Diplome | None = None
    diplomePrepare: Diplome | None = None
    derniereClasse: DerniereClasse | None = None
    intituleDiplomePrepare: Text | None = None
    telephone: Telephone | None = None
    courriel: Email | None = None
    adresse: AdresseApprenti | None = None
    apprentiMineur: OuiNon | None = None
    apprentiMineurNonEmancipe: OuiNon | None = None
    responsableLegal: ResponsableLegal | None = None


class Maitre(Block):
    nom: PersonName | None = None
    prenom: PersonName | None = None
    dateNaissance: IsoDate | None = None
    nir: Nir | None = None
    courriel: Email | None = None
    emploiOccupe: Text | None = None
    niveauDiplome: NiveauDiplome | None = None
    diplome: Text | None = None  # free text on the Cerfa ("BTS Assistance technique d'ingénieur"), not a code
    attestationEligibilite: OuiNon | None = None


class Formation(Block):
    rncp: Rncp | None = None
    codeDiplome: CodeDiplome | None = None
    typeDiplome: Diplome | None = None
    intituleQualification: Text | None = None
    dateDebutFormation: IsoDate | None = None
    dateFinFormation: IsoDate | None = None
    dureeFormation: TrainingHours | None = None
    nombreHeuresEnDistanciel: DistanceHours | None = None
    formationInterne: OuiNon | None = None


class RemunerationAnnuelle(Block):
    dateDebut: IsoDate | None = None
    dateFin: IsoDate | None = None
    taux: Rate | None = None
    tauxMinimal: Rate | None = None
    typeSalaire: TypeSalaire | None = None
    salaireBrut: Amount | None = None
    ordre: OrdrePeriode | None = None


class Contrat(Block):
    modeContractuel: ModeContractuel | None = None
    typeContratApp: TypeContratApp | None = None
    typeDerogation: TypeDerogation | None = None
    numeroContratPrecedent: NumeroDeca | None = None
    noContrat: NumeroDeca | None = None
    noAvenant: Text | None = None
    dateConclusion: IsoDate | None = None
    dateDebutContrat: IsoDate | None = None
    dateDebutFormationPratique: IsoDate | None = None
    dateFinContrat: IsoDate | None = None
    dateEffetAvenant: IsoDate | None = None
    dateRupture: IsoDate | None = None
    lieuSignatureContrat: Text | None = None
    dureeTravailHebdoHeures: WeeklyHours | None = None
    dureeTravailHebdoMinutes: Minutes | None = None
    travailRisque: OuiNon | None = None
    caisseRetraiteComplementaire: Text | None = None
    avantageNature: OuiNon | None = None
    avantageNourriture: Amount | None = None
    avantageLogement: Amount | None = None
    autreAvantageEnNature: OuiNon | None = None
    salaireEmbauche: Amount | None = None
    smc: Amount | None = None
    remunerationMajoration: RemunerationMajoration | None = None
    remunerationsAnnuelles: list[RemunerationAnnuelle] | None = Field(default=None, max_length=8)


class OrganismeFormation(Block):
    denomination: Text | None = None
    formationInterne: OuiNon | None = None
    siret: Siret | None = None
    uaiCfa: Uai | None = None
    visaCfa: OuiNon | None = None
    adresse: Adresse | None = None


class EtablissementFormation(Block):
    memeResponsable: OuiNon | None = None
    denomination: Text | None = None
    siret: Siret | None = None
    uaiCfa: Uai | None = None
    adresse: Adresse | None = None


class Cerfa(Block):
    employeur: Employeur | None = None
    apprenti: Apprenti | None = None
    maitre1: Maitre | None = None
    maitre2: Maitre | None = None
    formation: Formation | None = None
    contrat: Contrat | None = None
    organismeFormation: OrganismeFormation | None = None
    etablissementFormation: EtablissementFormation | None = None

    def to_document(self) -> dict[str, Any]:
        """The normalised JSON stored in events and returned by the API: codes in the standard's form, ISO
        dates, amounts as decimal strings; absent fields are left out."""
        return self.model_dump(mode="json", exclude_none=True)
