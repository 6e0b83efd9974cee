"""Each OPCO's profile as this deployment sees it: the catalogue's defaults, the settings' overrides, the sandbox."""

from __future__ import annotations

from dataclasses import replace

from domain.opco_catalogue import CATALOGUE, OpcoProfile
from domain.opcos import Opco
from infrastructure.settings import Settings


def opco_profiles(settings: Settings, sandbox_url: str | None) -> dict[Opco, OpcoProfile]:
    """`sandbox_url`, when given, serves every OPCO whose address the settings do not set."""
    return {opco: _profile(CATALOGUE[opco], settings, sandbox_url) for opco in Opco}


def _profile(profile: OpcoProfile, settings: Settings, sandbox_url: str | None) -> OpcoProfile:
    overrides = dict(settings.opco_overrides.get(profile.opco.value, {}))
    explicit = settings.opco_url(profile.opco.value)
    if explicit:
        overrides["base_url"] = explicit.rstrip("/")
    elif sandbox_url:
        base = f"{sandbox_url.rstrip('/')}/opcos/{profile.opco.value}"
        overrides.setdefault("base_url", base)
        overrides.setdefault("token_url", f"{base}/oauth/token")
    return replace(profile, **overrides)
