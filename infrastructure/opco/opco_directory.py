"""Each OPCO's profile as this deployment sees it: the catalogue of its environment, the settings' overrides, the
sandbox."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any
from urllib.parse import urlsplit

from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import Environment, ErrorShape, OpcoProfile, catalogue
from domain.opco.opcos import Opco
from infrastructure.settings import Settings

SOR_API_ROOT = "/SorApiEchangeCFA"
SANDBOX_OKTA_SERVER = "sandbox"  # the Okta authorization server the sandbox plays (AFDAS's own id is not known)
_FIELDS = {item.name for item in fields(OpcoProfile)} - {"opco"}


def opco_profiles(settings: Settings, sandbox_url: str | None) -> dict[Opco, OpcoProfile]:
    """`sandbox_url`, when given, serves every OPCO whose address the settings do not set, in its own dialect."""
    profiles = catalogue(Environment(settings.opco_environment))
    return {opco: _profile(profiles[opco], settings, sandbox_url) for opco in Opco}


def _profile(profile: OpcoProfile, settings: Settings, sandbox_url: str | None) -> OpcoProfile:
    overrides = typed_overrides(profile.opco, settings.opco_overrides.get(profile.opco.value, {}))
    explicit = settings.opco_url(profile.opco.value)
    if explicit:
        overrides["base_url"] = explicit.rstrip("/")
        overrides.setdefault("token_url", _token_url_beside(replace(profile, **overrides), profile))
    elif sandbox_url:
        base = f"{sandbox_url.rstrip('/')}/opcos/{profile.opco.value}"
        overrides.setdefault("base_url", base)
        path = replace(profile, **overrides).dialect.token_path  # the dialect an override may have changed
        if path is not None:
            overrides.setdefault("token_url", base + path.format(server=SANDBOX_OKTA_SERVER))
    return replace(profile, **overrides)


def _token_url_beside(configured: OpcoProfile, catalogued: OpcoProfile) -> str | None:
    """The token endpoint of an OPCO whose API address the settings moved: the catalogue's while the API stays on
    its host; else, in the SOR dialect, the identity server beside the API (as on the three SOR hosts observed:
    `<host>/SorApiEchangeCFA` and `<host>/SorApiIdentityServer/connect/token`); else unknown, to be set."""
    assert configured.base_url is not None
    if catalogued.base_url and urlsplit(catalogued.base_url).netloc == urlsplit(configured.base_url).netloc:
        return catalogued.token_url
    path = configured.dialect.token_path
    if configured.auth is not AuthFlavour.SOR or path is None:
        return None
    return configured.base_url.removesuffix(SOR_API_ROOT) + path


def typed_overrides(opco: Opco, raw: dict[str, Any]) -> dict[str, Any]:
    """CONVERGENCE_OPCO_OVERRIDES' fields for one OPCO, as the profile's types; ValueError naming a wrong one."""
    raw = dict(raw)
    if "oauth" in raw:  # the boolean of earlier releases: the dialect (`auth`) now says it
        if raw.pop("oauth") is not False or "auth" in raw:
            dialects = ", ".join(flavour.value for flavour in AuthFlavour)
            raise ValueError(f"CONVERGENCE_OPCO_OVERRIDES: {opco}: `oauth` is now `auth`, one of {dialects}")
        raw["auth"] = AuthFlavour.KEY_ONLY.value
    unknown = set(raw) - _FIELDS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ValueError(f"CONVERGENCE_OPCO_OVERRIDES: {opco}: unknown fields {names} (known: {sorted(_FIELDS)})")
    typed = dict(raw)
    try:
        if "auth" in typed:
            typed["auth"] = AuthFlavour(typed["auth"])
        if "environment" in typed:
            typed["environment"] = Environment(typed["environment"])
        if "errors" in typed:
            shape = dict(typed["errors"])
            typed["errors"] = ErrorShape(
                summary=tuple(shape.get("summary", ())), not_found=frozenset(shape.get("not_found", (404,)))
            )
    except (ValueError, TypeError) as error:
        raise ValueError(f"CONVERGENCE_OPCO_OVERRIDES: {opco}: {error}") from None
    return typed
