"""The worker's agents; each module's ``register`` declares its agent (or task).

    clicks/purchases/ratings ─[clean]→ events ─[user: profile → candidates → score → rank]
        → recommendations        user ─→ index-updates ─[index]→ term_index table
                                 user ─→ user-sketches (replicated)
    recommendations + events ─[feedback]→ metrics (per tumbling window and A/B variant)
                                        └─→ learn-examples ─[learn]→ learner table (blend)

profile, candidates and rank are steps of the user agent (agents/user.py), not agents.
"""

from __future__ import annotations

from agents import clean, feedback, index, learn, score, user
from streams.app import Pipeline


def register_all(p: Pipeline) -> None:
    for stage in (clean, user, index, score, feedback, learn):
        stage.register(p)
