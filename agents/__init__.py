"""One Faust agent per pipeline stage; each module's ``register`` declares its agent.

    clicks/purchases/ratings ─[clean]→ events ─[profile]→ profiled ─[candidates]→ candidates
        ─[rank]→ recommendations          profile ─→ index-updates ─[index]→ term_index table
                                          profile ─→ user-sketches (replicated)
"""

from __future__ import annotations

from agents import candidates, clean, index, profile, rank
from streams.app import Pipeline


def register_all(p: Pipeline) -> None:
    for stage in (clean, profile, index, candidates, rank):
        stage.register(p)
