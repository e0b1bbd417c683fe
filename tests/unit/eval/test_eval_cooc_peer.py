"""The streaming co-occurrence kNN peer, against its definition by hand."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recstream.eval.peers import ranking_peers
from recstream.eval.peers.cooc_knn import CoocKnnPeer


def test_hand_worked_scores():
    # users 0: items 0, 1, 2; 1: items 1, 2; 2: items 0, 3 -> C[0,1] = 1, C[1,2] = 2,
    # C[0,2] = 1, C[0,3] = 1; pop = 2, 2, 2, 1
    peer = CoocKnnPeer()
    peer.fit({0: [0, 1, 2, 1], 1: [1, 2], 2: [0, 3]}, 3, 5)
    s = peer.scores(1, [])  # user 1's items 1, 2
    assert s[0] == pytest.approx(1 / math.sqrt(2 * 2) + 1 / math.sqrt(2 * 2))
    assert s[3] == 0.0 and s[4] == 0.0
    assert s[2] == pytest.approx(2 / math.sqrt(2 * 2))  # seen items score too: callers mask


def test_only_the_last_20_distinct_items_count():
    peer = CoocKnnPeer()
    peer.fit({0: list(range(25)), 1: [0, 30]}, 2, 31)
    # user 0's last 20 are 5..24: item 30 co-occurs only with 0, which is out of the window
    assert peer.scores(0, [])[30] == 0.0
    peer.observe(0, 0)  # a repeat does not move 0 into the window
    assert peer.scores(0, [])[30] == 0.0


def test_streaming_equals_refitting_on_the_same_events():
    rng = random.Random(1)
    events = [(rng.randrange(8), rng.randrange(15)) for _ in range(200)]
    live = CoocKnnPeer()
    live.fit({}, 0, 15)
    for u, i in events:
        live.observe(u, i)
    rows: dict[int, list[int]] = {}
    for u, i in events:
        rows.setdefault(u, []).append(i)
    batch = CoocKnnPeer()
    batch.fit(rows, 8, 15)
    for u in range(8):
        np.testing.assert_allclose(live.scores(u, []), batch.scores(u, []))


def test_listed_among_the_ranking_peers_without_any_extra():
    factories, _ = ranking_peers()
    assert "cooc_knn" in factories
