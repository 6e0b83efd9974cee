"""Field formats of the Cerfa: each accepted form, its normalisation, and the code of each refusal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.cerfa import formats
from domain.cerfa.model import Cerfa


def _adapter(annotated: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotated)


def _error_code(annotated: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _adapter(annotated).validate_python(value)
    errors = caught.value.errors()
    assert len(errors) == 1
    return str(errors[0]["type"])


ACCEPTED: list[tuple[Any, Any, Any]] = [
    (formats.Siret, "84213657400022", "84213657400022"),
    (formats.Siret, "842 136 574 00022", "84213657400022"),
    (formats.Siren, "842136574", "842136574"),
    (formats.Nir, "207036926612318", "207036926612318"),
    (formats.Nir, "2 07 03 69 266 123 18", "207036926612318"),
    (formats.Nir, "253072A07300443", "253072A07300443"),
    (formats.Nir, "253072b07300470", "253072B07300470"),
    (formats.Uai, "0694123G", "0694123G"),
    (formats.Uai, "0750655e", "0750655E"),
    (formats.Rncp, "35340", "RNCP35340"),
    (formats.Rncp, "rncp35340", "RNCP35340"),
    (formats.Rncp, "RNCP12", "RNCP12"),
    (formats.CodeDiplome, "32032613", "32032613"),
    (formats.CodeDiplome, "32032613a", "32032613A"),
    (formats.NumeroDeca, "02B202212000000", "02B202212000000"),
    (formats.NumeroDeca, "069202409nc1234", "069202409NC1234"),
    (formats.CodePostal, "69002", "69002"),
    (formats.Email, "lea.martin@example.com", "lea.martin@example.com"),
    (formats.Email, "Lea+cfa@Example.COM", "Lea+cfa@example.com"),
    (formats.Telephone, "06 12 34 56 78", "0612345678"),
    (formats.Telephone, "06.12.34.56.78", "0612345678"),
    (formats.Telephone, "+33 6 12 34 56 78", "0612345678"),
    (formats.Telephone, "+33 (0)6 12 34 56 78", "0612345678"),
    (formats.Telephone, "0033612345678", "0612345678"),
    (formats.Telephone, "+262 262 12 34 56", "0262123456"),
    (formats.Idcc, 16, "0016"),
    (formats.Idcc, "16", "0016"),
    (formats.Idcc, "1486", "1486"),
    (formats.Naf, "6202a", "62.02A"),
    (formats.Naf, "62.01Z", "62.01Z"),
    (formats.DepartementNaissance, "69", "69"),
    (formats.DepartementNaissance, 1, "01"),
    (formats.DepartementNaissance, "2a", "2A"),
    (formats.DepartementNaissance, "971", "971"),
    (formats.DepartementNaissance, 99, "99"),
    (formats.DepartementNaissance, "95", "95"),
    (formats.DepartementNaissance, "2B", "2B"),
    (formats.DepartementNaissance, 976, "976"),
    (formats.DepartementNaissance, "975", "975"),  # Saint-Pierre-et-Miquelon
    (formats.DepartementNaissance, "988", "988"),  # Nouvelle-Calédonie
    (formats.TypeContratApp, 11, 11),
    (formats.TypeContratApp, "38", 38),
    (formats.TypeEmployeur, "30", 30),
    (formats.EmployeurSpecifique, 0, 0),
    (formats.TypeDerogation, "12", 12),
    (formats.ModeContractuel, 4, 4),
    (formats.Nationalite, "3", 3),
    (formats.RegimeSocial, 1, 1),
    (formats.SituationAvantContrat, 12, 12),
    (formats.Diplome, "54", 54),
    (formats.NiveauDiplome, 0, 0),
    (formats.RemunerationMajoration, "20", 20),
    (formats.DerniereClasse, 1, "01"),
    (formats.DerniereClasse, "1", "01"),
    (formats.DerniereClasse, "42", "42"),
    (formats.Sexe, "f", "F"),
    (formats.TypeSalaire, "smc", "SMC"),
    (formats.RepetitionVoie, "b", "B"),
    (formats.OuiNon, "oui", True),
    (formats.OuiNon, "Non", False),
    (formats.OuiNon, True, True),
    (formats.IsoDate, "2026-09-01", date(2026, 9, 1)),
    (formats.Amount, 783.91, Decimal("783.91")),
    (formats.Amount, "783.9", Decimal("783.90")),
    (formats.Amount, 1200, Decimal("1200.00")),
    (formats.Rate, "43.0", Decimal("43")),
    (formats.Rate, 53.5, Decimal("53.5")),
    (formats.TrainingHours, 1, 1),
    (formats.TrainingHours, "9999", 9999),
    (formats.Minutes, 59, 59),
    (formats.PersonName, "  Jean-Pierre  ", "Jean-Pierre"),
    (formats.PersonName, "N'Diaye", "N'Diaye"),
    (formats.PersonName, "L" * 80, "L" * 80),
    (formats.Text, "  Lyon ", "Lyon"),
    (formats.OrdrePeriode, "2.2", "2.2"),
]


@pytest.mark.parametrize(("annotated", "value", "normalised"), ACCEPTED)
def test_accepted_values_are_normalised(annotated: Any, value: Any, normalised: Any) -> None:
    result = _adapter(annotated).validate_python(value)
    assert result == normalised
    assert type(result) is type(normalised)


REFUSED: list[tuple[Any, Any, str]] = [
    (formats.Siret, "84213657400023", "siret_checksum"),
    (formats.Siret, "8421365740002", "siret_format"),
    (formats.Siret, "8421365740002A", "siret_format"),
    (formats.Siret, 84213657400022, "string_type"),
    (formats.Siren, "842136575", "siren_checksum"),
    (formats.Siren, "84213657", "siren_format"),
    (formats.Nir, "207036926612319", "nir_key"),
    (formats.Nir, "253072A07300470", "nir_key"),
    (formats.Nir, "2070369266123", "nir_format"),
    (formats.Nir, "253072C07300443", "nir_format"),
    (formats.Uai, "0694123H", "uai_check_letter"),
    (formats.Uai, "069412G", "uai_format"),
    (formats.Uai, "06941234", "uai_format"),
    (formats.Rncp, "RNCP1", "rncp_format"),
    (formats.Rncp, "RNCP123456", "rncp_format"),
    (formats.Rncp, "RS1234", "rncp_format"),
    (formats.CodeDiplome, "3203261", "code_diplome_format"),
    (formats.CodeDiplome, "32032613AB", "code_diplome_format"),
    (formats.NumeroDeca, "06920240900123", "numero_deca_format"),
    (formats.NumeroDeca, "969202409001234", "numero_deca_format"),
    (formats.CodePostal, "6900", "code_postal_format"),
    (formats.CodePostal, "690021", "code_postal_format"),
    (formats.Email, "lea@", "email_format"),
    (formats.Email, "lea.example.com", "email_format"),
    (formats.Email, "lea@example", "email_format"),
    (formats.Email, "lea..martin@example.com", "email_format"),
    (formats.Email, "lea martin@example.com", "email_format"),
    (formats.Telephone, "061234567", "telephone_format"),
    (formats.Telephone, "0012345678", "telephone_format"),
    (formats.Telephone, "+44 20 7946 0958", "telephone_format"),
    (formats.Idcc, 12345, "idcc_format"),
    (formats.Idcc, "16a", "idcc_format"),
    (formats.Idcc, True, "idcc_format"),
    (formats.Naf, "620A", "naf_format"),
    (formats.Naf, "62.01", "naf_format"),
    (formats.DepartementNaissance, "970", "departement_format"),
    (formats.DepartementNaissance, "979", "departement_format"),
    (formats.DepartementNaissance, "985", "departement_format"),  # Mayotte is 976 since 2011
    (formats.DepartementNaissance, "100", "departement_format"),
    (formats.DepartementNaissance, "2C", "departement_format"),
    (formats.TypeContratApp, 41, "not_apprenticeship"),
    (formats.TypeContratApp, "39", "not_apprenticeship"),
    (formats.TypeContratApp, "onze", "enum"),
    (formats.TypeContratApp, True, "enum"),
    (formats.TypeEmployeur, 17, "enum"),
    (formats.EmployeurSpecifique, 5, "enum"),
    (formats.TypeDerogation, 13, "enum"),
    (formats.ModeContractuel, 5, "enum"),
    (formats.Nationalite, 4, "enum"),
    (formats.RegimeSocial, 3, "enum"),
    (formats.SituationAvantContrat, 13, "enum"),
    (formats.Diplome, 64, "enum"),
    (formats.NiveauDiplome, 2, "enum"),
    (formats.RemunerationMajoration, 15, "enum"),
    (formats.DerniereClasse, 13, "enum"),
    (formats.Sexe, "X", "enum"),
    (formats.TypeSalaire, "SMAC", "enum"),
    (formats.RepetitionVoie, "bis", "enum"),
    (formats.OuiNon, "peut-être", "boolean"),
    (formats.OuiNon, 1, "boolean"),
    (formats.IsoDate, "01/09/2026", "date_format"),
    (formats.IsoDate, "2026-09-01T00:00:00", "date_format"),
    (formats.IsoDate, 1788220800, "date_format"),
    (formats.IsoDate, "2026-02-30", "date_invalid"),
    (formats.Amount, 0.1 + 0.2, "decimal_places"),
    (formats.Amount, "783.911", "decimal_places"),
    (formats.Amount, "-1", "decimal_negative"),
    (formats.Amount, "1e3", "decimal_format"),
    (formats.Amount, "abc", "decimal_format"),
    (formats.Amount, True, "decimal_format"),
    (formats.Rate, "43.005", "decimal_places"),
    (formats.TrainingHours, 0, "out_of_range"),
    (formats.TrainingHours, 10000, "out_of_range"),
    (formats.TrainingHours, "12h", "integer_format"),
    (formats.Minutes, 60, "out_of_range"),
    (formats.PersonName, "L3a", "name_format"),
    (formats.PersonName, "L" * 81, "name_format"),
    (formats.Text, "   ", "text_empty"),
    (formats.Text, "x" * 256, "text_too_long"),
    (formats.OrdrePeriode, "5.1", "ordre_format"),
]


@pytest.mark.parametrize(("annotated", "value", "code"), REFUSED)
def test_refused_values_carry_a_stable_code(annotated: Any, value: Any, code: str) -> None:
    assert _error_code(annotated, value) == code


def test_refusal_messages_name_the_rule() -> None:
    with pytest.raises(ValidationError) as caught:
        _adapter(formats.Uai).validate_python("0694123H")
    assert caught.value.errors()[0]["msg"] == "the check letter of UAI 0694123 is G, not H"


def test_an_unknown_field_is_refused_not_dropped() -> None:
    with pytest.raises(ValidationError) as caught:
        Cerfa.model_validate({"apprenti": {"nom": "Martin", "prenon": "Léa"}})
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(("apprenti", "prenon"), "extra_forbidden")]


def test_every_field_is_optional() -> None:
    assert Cerfa.model_validate({}).to_document() == {}


def test_the_document_writes_codes_dates_and_amounts_in_the_standard_form() -> None:
    cerfa = Cerfa.model_validate(
        {
            "employeur": {"codeIdcc": 16, "typeEmployeur": "12", "naf": "6201z"},
            "apprenti": {"derniereClasse": 1, "dateNaissance": "2007-03-14", "handicap": "non"},
            "contrat": {"salaireEmbauche": 783.9, "remunerationsAnnuelles": [{"taux": "43.0", "ordre": "1.1"}]},
        }
    )
    assert cerfa.to_document() == {
        "employeur": {"codeIdcc": "0016", "typeEmployeur": 12, "naf": "62.01Z"},
        "apprenti": {"derniereClasse": "01", "dateNaissance": "2007-03-14", "handicap": False},
        "contrat": {"salaireEmbauche": "783.90", "remunerationsAnnuelles": [{"taux": "43", "ordre": "1.1"}]},
    }
    assert Cerfa.model_validate(cerfa.to_document()) == cerfa
