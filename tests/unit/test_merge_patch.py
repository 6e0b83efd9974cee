from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.merge_patch import apply_merge_patch, merge_diff

# The examples of RFC 7386, appendix A.
RFC_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_EXAMPLES)
def test_apply_follows_rfc_7386(target: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(target, patch) == expected


def test_apply_does_not_mutate_the_target() -> None:
    target = {"a": {"b": 1}}
    apply_merge_patch(target, {"a": {"b": 2}})
    assert target == {"a": {"b": 1}}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"a": 1}, {"a": 1}),
        ({"a": 1, "b": {"c": 2, "d": 3}}, {"a": 1, "b": {"c": 2}}),
        ({"a": [1, 2]}, {"a": [1, 3], "z": {"y": "x"}}),
        ({"a": "x"}, {"a": {"b": "c"}}),
        ({"a": {"b": "c"}}, {}),
    ],
)
def test_diff_is_the_patch_that_turns_old_into_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply_merge_patch(old, merge_diff(old, new)) == new


def test_diff_of_equal_documents_is_empty() -> None:
    assert merge_diff({"a": {"b": [1]}}, {"a": {"b": [1]}}) == {}


# -- properties over any JSON (hypothesis) -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
without_nulls = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
objects_without_nulls = st.dictionaries(st.text(max_size=3), without_nulls, max_size=5)


@given(json_values, json_values)
def test_applying_a_patch_twice_changes_nothing_more(target: Any, patch: Any) -> None:
    once = apply_merge_patch(target, patch)
    assert apply_merge_patch(once, patch) == once


@given(json_values, st.dictionaries(st.text(max_size=3), json_values, max_size=4))
def test_an_object_patch_sets_its_values_and_removes_its_nulls(target: Any, patch: dict[str, Any]) -> None:
    result = apply_merge_patch(target, patch)
    for key, value in patch.items():
        if value is None:
            assert key not in result
        elif not isinstance(value, dict):
            assert result[key] == value
    untouched = target if isinstance(target, dict) else {}
    assert {k: v for k, v in result.items() if k not in patch} == {k: v for k, v in untouched.items() if k not in patch}


@given(objects_without_nulls, objects_without_nulls)
def test_the_diff_turns_one_document_into_the_other(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply_merge_patch(old, merge_diff(old, new)) == new
    assert (merge_diff(old, new) == {}) == (old == new)


@given(json_values, json_values)
def test_apply_never_changes_its_arguments(target: Any, patch: Any) -> None:
    before = copy.deepcopy((target, patch))
    apply_merge_patch(target, patch)
    assert (target, patch) == before
