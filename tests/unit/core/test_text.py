"""Tokenising item and review text (recstream/core/text.py)."""

from __future__ import annotations

from recstream.core.text import term_counts, tokenize


def test_tokenize_lowercases_and_drops_stopwords_and_single_characters() -> None:
    # "the", "a" are stopwords; "x" and "2" are one character; hyphens/apostrophes stay inside
    assert tokenize("The Quick-Brown fox's 2 dogs, a x! 42 U2") == [
        "quick-brown", "fox's", "dogs", "42", "u2"]


def test_tokenize_of_nothing_useful_is_empty() -> None:
    assert tokenize("") == []
    assert tokenize("a the of --- !!") == []


def test_term_counts_adds_up_fields_and_skips_empty_ones() -> None:
    counts = term_counts(["Red Wine", "A red wine from France", "", "wine"])
    # red: 1 + 1; wine: 1 + 1 + 1; france: 1  ("a", "from" are stopwords)
    assert counts == {"red": 2, "wine": 3, "france": 1}
