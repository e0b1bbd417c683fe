"""Turn item and review text into terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*[a-z0-9]|[a-z]")

#: Function words that carry no interest signal (a short English list, lower case).
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t don ll re ve d m o y""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` without stopwords and one-letter words."""
    return [
        w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS
    ]


def term_counts(parts: Iterable[str]) -> Counter[str]:
    """Term counts over several text fields (title, description, tags, review)."""
    counts: Counter[str] = Counter()
    for part in parts:
        if part:
            counts.update(tokenize(part))
    return counts
