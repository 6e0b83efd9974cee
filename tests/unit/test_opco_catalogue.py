"""The catalogue of OPCO dialects and addresses: no production default on a test host, an unknown address says so,
and the settings and the sandbox shape each OPCO's profile in its own dialect."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import ADDRESSES, CATALOGUE, Environment, catalogue
from domain.opco.opco_documents.kinds import DocumentKind, DocumentRoute, route_for
from domain.opco.opcos import Opco
from infrastructure.opco.opco_directory import opco_profiles
from tests.support import settings

# Words that mark a test, lab or acceptance host in the OPCOs' and their vendors' naming.
TEST_HOST = re.compile(r"recette|test|lab|staging|preprod|qualif|sandbox|\bdev\b|-rec\b|demo", re.IGNORECASE)


def hosts(environment: Environment) -> set[str]:
    return {
        urlsplit(url).netloc
        for by_environment in ADDRESSES.values()
        for env, address in by_environment.items()
        if env is environment
        for url in (address.base_url, address.token_url)
        if url
    }


def test_no_production_address_points_at_a_test_host() -> None:
    production = catalogue(Environment.PRODUCTION)
    for profile in production.values():
        for url in (profile.base_url, profile.token_url):
            if url is not None:
                assert url.startswith("https://"), url
                assert not TEST_HOST.search(urlsplit(url).netloc), f"{profile.opco}: {url}"
    assert not hosts(Environment.PRODUCTION) & hosts(Environment.TEST)


def test_the_test_environment_has_the_observed_test_hosts_and_nothing_else() -> None:
    test = catalogue(Environment.TEST)
    assert test[Opco.AFDAS].base_url == "https://api-cfa-recette.afdas.com"
    assert test[Opco.OPCOEP].base_url == "https://kong-master.lab.opcoep.fr"
    assert test[Opco.MOBILITES].token_url == (
        "https://moov-test-echangecfa-api.opcomobilites.fr/SorApiIdentityServer/connect/token"
    )
    assert test[Opco.AKTO].base_url is None  # AKTO's test host was not observed: none is made up


@pytest.mark.parametrize(
    ("opco", "says"),
    [
        (Opco.OPCOEP, "no production address of OPCOEP's API is known (only its test host was observed)"),
        (Opco.MOBILITES, "only its test host was observed"),
        (Opco.OPCOMMERCE, "no production address of OPCOMMERCE's API is known"),
        (Opco.AFDAS, "AFDAS's production OAuth2 token endpoint (okta_dpop) is not known"),
    ],
)
def test_an_opco_whose_address_is_unknown_says_so(opco: Opco, says: str) -> None:
    reason = CATALOGUE[opco].unreachable()
    assert reason is not None
    assert says in reason


def test_the_dialects_are_the_observed_ones() -> None:
    flavours = {opco: profile.auth for opco, profile in CATALOGUE.items()}
    assert {o for o, f in flavours.items() if f is AuthFlavour.SOR} == {Opco.AKTO, Opco.ATLAS, Opco.MOBILITES}
    assert flavours[Opco.OPCOEP] is AuthFlavour.KEYCLOAK
    assert flavours[Opco.AFDAS] is AuthFlavour.OKTA_DPOP
    assert CATALOGUE[Opco.AKTO].oauth_scope == "api.read api.write"
    assert CATALOGUE[Opco.OPCOEP].oauth_scope is None
    assert {o for o, p in CATALOGUE.items() if p.invoice_path == "/v1/Factures"} == {
        Opco.AKTO,
        Opco.ATLAS,
        Opco.MOBILITES,
    }
    assert CATALOGUE[Opco.OPCOEP].errors.not_found == frozenset({400, 404})
    assert CATALOGUE[Opco.ATLAS].errors.summary[0] == "description"


def test_the_sandbox_plays_every_opco_at_its_dialects_token_path() -> None:
    profiles = opco_profiles(settings(), "http://127.0.0.1:8000/sandbox")
    base = "http://127.0.0.1:8000/sandbox/opcos"
    assert profiles[Opco.AKTO].token_url == f"{base}/AKTO/SorApiIdentityServer/connect/token"
    assert profiles[Opco.OPCOEP].token_url == (
        f"{base}/OPCOEP/realms/interopco-partenaires/protocol/openid-connect/token"
    )
    assert profiles[Opco.AFDAS].token_url == f"{base}/AFDAS/oauth2/sandbox/v1/token"
    assert profiles[Opco.OPCOMMERCE].token_url is None
    assert all(profile.unreachable() is None for profile in profiles.values())


def test_the_settings_choose_the_environment_and_override_a_profile_in_its_own_types() -> None:
    overrides = {"OPCOEP": {"token_url": "https://auth.opcoep.test/token"}, "OCAPIAT": {"auth": "sor"}}
    profiles = opco_profiles(settings(opco_environment="test", opco_overrides=overrides), None)
    assert profiles[Opco.OPCOEP].environment is Environment.TEST
    assert profiles[Opco.OPCOEP].unreachable() is None
    assert profiles[Opco.OCAPIAT].auth is AuthFlavour.SOR
    assert profiles[Opco.OCAPIAT].base_url is None  # a dialect is no address


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"AKTO": {"colour": "blue"}}, "unknown fields colour"),
        ({"AKTO": {"auth": "saml"}}, "'saml' is not a valid AuthFlavour"),
        ({"AKTO": {"oauth": True}}, "`oauth` is now `auth`"),
    ],
)
def test_a_wrong_override_is_refused_naming_it(override: dict[str, dict[str, object]], says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        opco_profiles(settings(opco_overrides=override), None)


def test_the_oauth_false_of_earlier_releases_still_means_key_only() -> None:
    profiles = opco_profiles(settings(opco_overrides={"AKTO": {"oauth": False}}), None)
    assert profiles[Opco.AKTO].auth is AuthFlavour.KEY_ONLY


def test_an_api_moved_by_the_settings_takes_its_token_endpoint_along_only_where_the_dialect_says_where() -> None:
    profiles = opco_profiles(
        settings(
            opco_atlas_url="https://cfa-ws.opco-atlas.org/SorApiEchangeCFA/",
            opco_akto_url="https://akto.proxy.example/SorApiEchangeCFA",
            opco_opcoep_url="https://api.opcoep.example",
        ),
        None,
    )
    assert profiles[Opco.ATLAS].token_url == "https://cfa-ws.opco-atlas.org/SorApiIdentityServer/connect/token"
    assert profiles[Opco.AKTO].token_url == "https://akto.proxy.example/SorApiIdentityServer/connect/token"
    assert profiles[Opco.OPCOEP].token_url is None  # Keycloak's host is its own: it must be set
    assert "token endpoint" in (profiles[Opco.OPCOEP].unreachable() or "")


def test_the_document_routes_each_opco_takes() -> None:
    """Conventions at ten OPCOs (not Santé), /v1/documents at the SOR hosts, /v2/certificats at AFDAS only."""
    assert {o for o, p in CATALOGUE.items() if not p.conventions} == {Opco.SANTE}
    assert {o for o, p in CATALOGUE.items() if p.documents} == {Opco.AKTO, Opco.ATLAS, Opco.MOBILITES}
    assert {o for o, p in CATALOGUE.items() if p.certificats_v2} == {Opco.AFDAS}


def test_a_document_goes_by_the_route_its_opco_takes() -> None:
    convention, certificat = DocumentKind.CONVENTION_FORMATION, DocumentKind.CERTIFICAT_REALISATION
    assert route_for(convention, CATALOGUE[Opco.ATLAS]) is DocumentRoute.CONVENTIONS
    assert route_for(DocumentKind.CONVENTION_MOBILITE, CATALOGUE[Opco.ATLAS]) is DocumentRoute.DOCUMENTS
    assert route_for(DocumentKind.CONVENTION_MOBILITE, CATALOGUE[Opco.OCAPIAT]) is None
    assert route_for(certificat, CATALOGUE[Opco.AKTO]) is DocumentRoute.DOCUMENTS
    assert route_for(certificat, CATALOGUE[Opco.AFDAS]) is DocumentRoute.CERTIFICATS_V2
    assert route_for(certificat, CATALOGUE[Opco.OPCO2I]) is None
    assert route_for(convention, CATALOGUE[Opco.SANTE]) is None
