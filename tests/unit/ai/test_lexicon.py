"""Typo-tolerant matching: jamo-level for Korean, letter-level for English."""

from __future__ import annotations

import pytest

from lib.ai.lexicon import has_any, jamo, normalise


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("서벼", "서버"), ("메머리", "메모리"), ("memroy", "memory"), ("overveiw", "overview"),
     ("상테", "상태"), ("databse", "database")],
)  # fmt: skip
def test_near_misses_become_the_vocabulary_word(typed: str, meant: str) -> None:
    assert normalise(typed) == meant


@pytest.mark.parametrize("word", ["대야", "어제", "today", "weather", "web", "api"])
def test_other_words_stay_as_typed(word: str) -> None:
    assert normalise(word) == word


def test_particles_survive_the_correction() -> None:
    assert normalise("메머리는") == "메모리는"


def test_jamo_splits_syllables_into_letters() -> None:
    assert jamo("서버") == "\u1109\u1165\u1107\u1165"
    assert jamo("a서") == "a\u1109\u1165"


def test_phrases_match_with_or_without_spaces_and_never_inside_words() -> None:
    assert has_any("몇대야", ("몇 대",))
    assert has_any("cpu사용률", ("cpu",))
    assert not has_any("rapid growth", ("api",))
