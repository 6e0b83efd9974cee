"""The département (INSEE code) a French postcode belongs to.

A postcode's first two digits are its département's number, except:
- Corsica (20xxx): 200xx and 201xx are Corse-du-Sud (2A), 202xx to 206xx Haute-Corse (2B);
- overseas (97xxx, 98xxx): the first three digits, except Saint-Barthélemy (97133, collectivity 977) and
  Saint-Martin (97150, collectivity 978), which kept Guadeloupe's postcodes when they left it in 2007;
- Monaco (980xx) uses French postcodes but is not France; 00xxx, 96xxx and 99xxx are no département's.

A few communes are served by a post office of the next département (their postcode names the neighbour): the
answer is then that neighbour's, which matters only where the two have different public holidays.
"""

from __future__ import annotations

import re

_POSTCODE = re.compile(r"[0-9]{5}")
OVERSEAS = frozenset({"971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988"})
_COLLECTIVITIES_IN_GUADELOUPE_CODES = {"97133": "977", "97150": "978"}  # Saint-Barthélemy, Saint-Martin


def departement_of_postcode(postcode: str | None) -> str | None:
    """'57000' → '57', '20090' → '2A', '97400' → '974', '97133' → '977'; None when it names no département."""
    if postcode is None or not _POSTCODE.fullmatch(postcode):
        return None
    if postcode in _COLLECTIVITIES_IN_GUADELOUPE_CODES:
        return _COLLECTIVITIES_IN_GUADELOUPE_CODES[postcode]
    head = postcode[:2]
    if head == "20":
        return "2A" if postcode[2] in "01" else "2B"
    if head in {"97", "98"}:
        return postcode[:3] if postcode[:3] in OVERSEAS else None
    if head in {"00", "96", "99"}:
        return None
    return head
