"""candidates: CF neighbours, content matches and trending items for the user.

A step of the user agent (agents/user.py): it runs right after the event is applied, on the
profile as that event left it. The costly part, the CF neighbour and content search, is
reused between events until the profile has moved enough (``p.sources``,
recstream.core.candidates.SourceCache; settings ``recommend.refresh_*``). Reads: the
replicated global view (term index, sketches, catalogue, trending). The LLM scorer's
scores for the candidates are asked for by the user agent, for a whole batch at once
(agents/score.py).
"""

from __future__ import annotations

from recstream.core.candidates import CandidateSet, generate
from recstream.core.tfidf import Profile
from recstream.core.view import ViewCache
from streams.app import Pipeline

#: how long a batch with an empty candidate list waits for the global view to catch up
REPLICA_WAIT_S = 1.0


def find(p: Pipeline, user: str, profile: Profile, cache: ViewCache) -> CandidateSet:
    """``cache``: made for the current synchronous pass over a batch (the global view does
    not change during it)."""
    return generate(user, profile, p.view, p.settings.recommend, cache, p.sources)


def count(p: Pipeline, found: CandidateSet) -> None:
    p.metrics.event("candidates", "ok" if found.items else "empty")
