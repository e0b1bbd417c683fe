"""The worker's agents; each module's ``register`` declares its agent (or task).

    clicks/purchases/ratings ─[clean]→ events
        ─[user: profile → candidates → score → rank → feedback]→ recommendations
                                 user ─→ index-updates ─[index]→ term_index table
                                 user ─→ user-sketches (replicated)
                                 user ─→ metrics (feedback join, per tumbling window and variant)
                                 user ─→ learn-examples ─[learn]→ learner table (blend)

profile, candidates, rank and feedback are steps of the user agent (agents/user.py), not
agents.
"""

from __future__ import annotations

from agents import clean, index, learn, score, user
from streams.app import Pipeline


def register_all(p: Pipeline) -> None:
    for stage in (clean, user, index, score, learn):
        stage.register(p)
