"""One Faust agent per pipeline stage; each module's ``register`` declares its agent.

    clicks/purchases/ratings ─[clean]→ events ─[profile]→ profiled ─[candidates]→ candidates
        ─[rank]→ recommendations          profile ─→ index-updates ─[index]→ term_index table
                                          profile ─→ user-sketches (replicated)
    recommendations + events ─[feedback]→ metrics (per tumbling window and A/B variant)
                                        └─→ learn-examples ─[learn]→ learner table (blend)
"""

from __future__ import annotations

from agents import candidates, clean, feedback, index, learn, profile, rank, score
from streams.app import Pipeline


def register_all(p: Pipeline) -> None:
    for stage in (clean, profile, index, score, candidates, rank, feedback, learn):
        stage.register(p)
