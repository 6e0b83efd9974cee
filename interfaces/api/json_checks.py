"""What a JSON request body must be before any route parses it, checked on its bytes.

- Strict JSON (RFC 8259, as orjson reads it): no NaN or Infinity, valid UTF-8, no lone surrogate (which no
  event could be encoded with), and no NUL character (which PostgreSQL text cannot hold, and SQLite cuts at).
- Objects and arrays nested at most `max_depth` levels: the bound keeps the recursive code behind (the parser,
  the merge patch, the validation) far from Python's recursion limit.
"""

from __future__ import annotations

import orjson

from domain.problems import Problem

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def json_refusal(body: bytes, max_depth: int) -> Problem | None:
    """Why `body` is refused, or None."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):  # orjson's own bound (1024 levels), past any bound of ours
            return _too_deep(max_depth)
        return Problem("body", "json_invalid", f"the body is not valid JSON (RFC 8259): {error}")
    # Escaped backslashes dropped, every backslash left starts an escape of its own: \u0000 is a NUL, \" a quote.
    unescaped = body.replace(b"\\\\", b"")
    if b"\\u0000" in unescaped:
        return Problem("body", "json_nul_character", "a string holds the NUL character (\\u0000): no stored text can")
    if _deeper_than(unescaped.replace(b'\\"', b""), max_depth):
        return _too_deep(max_depth)
    return None


def _too_deep(max_depth: int) -> Problem:
    return Problem(
        "body",
        "json_too_deep",
        f"objects and arrays nest more than {max_depth} levels deep (CONVERGENCE_MAX_JSON_DEPTH)",
    )


def _deeper_than(unescaped: bytes, max_depth: int) -> bool:
    """Whether the objects and arrays of a valid JSON text whose escaped backslashes and quotes were dropped nest
    more than `max_depth` levels ([] is 1, [[]] 2).

    Read from the bytes in a few passes that run in C (a walk of the parsed value costs ten times more on a
    megabyte of small arrays): every quote left opens or closes a string; what lies outside the strings, reduced
    to its brackets, loses one level of nesting per removal of its innermost pairs."""
    structure = b"".join(unescaped.split(b'"')[::2]).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(max_depth):
        structure = structure.replace(b"[]", b"")
        if not structure:
            return False
    return True
