"""The sender's rounds take the accounts in turn: each round starts after the account the last one took from."""

from __future__ import annotations

from infrastructure.worker import _from_next

ACCOUNTS = [("222", "AKTO"), ("111", "ATLAS"), ("111", "AKTO"), ("333", "OCAPIAT")]


def test_a_first_round_takes_the_accounts_in_order() -> None:
    assert _from_next(ACCOUNTS, None) == [("111", "AKTO"), ("111", "ATLAS"), ("222", "AKTO"), ("333", "OCAPIAT")]


def test_the_next_round_starts_after_the_account_the_last_one_stopped_at_and_comes_round_to_it() -> None:
    assert _from_next(ACCOUNTS, ("111", "ATLAS")) == [
        ("222", "AKTO"),
        ("333", "OCAPIAT"),
        ("111", "AKTO"),
        ("111", "ATLAS"),
    ]


def test_an_account_no_longer_due_still_marks_where_the_turn_is() -> None:
    assert _from_next(ACCOUNTS, ("222", "ZZZ")) == [
        ("333", "OCAPIAT"),
        ("111", "AKTO"),
        ("111", "ATLAS"),
        ("222", "AKTO"),
    ]
    assert _from_next([], ("222", "AKTO")) == []
