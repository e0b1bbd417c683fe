"""Review sentiment (recstream/core/sentiment.py) and its effect on the TF-IDF profile."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from recstream.core.catalogue import item_from_record
from recstream.core.process import update_profile
from recstream.core.sentiment import Vader, ZeroShot, negative_review
from recstream.core.tfidf import Profile
from recstream.settings import ProfileSettings

TS = 1_700_000_000.0
BOOTS = item_from_record({"item_id": "A", "title": "hiking boots"})
POLES = item_from_record({"item_id": "B", "title": "hiking poles"})


def test_vader_scores_polarity() -> None:
    v = Vader()
    assert v("I love this magazine, great articles!") > 0.5
    assert v("Terrible. A waste of money, I hate it.") < -0.5
    assert v("") == 0.0


def fake_encode(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors over three words: 'great'/'love', 'terrible'/'hate', anything else."""
    out = []
    for t in texts:
        words = t.lower().replace(",", " ").split()
        v = np.array([sum(w in ("great", "love", "good", "excellent") for w in words),
                      sum(w in ("terrible", "hate", "bad", "awful") for w in words),
                      0.5])
        out.append(v / np.linalg.norm(v))
    return np.array(out)


def test_zero_shot_is_the_difference_of_prototype_cosines() -> None:
    z = ZeroShot(fake_encode, positive=["great"], negative=["terrible"])
    # prototypes: (2, 0, 1)/√5 and (0, 2, 1)/√5 → direction (2, −2, 0)/√5
    assert z("great") == pytest.approx(float(np.dot(fake_encode(["great"])[0],
                                                    [2 / 5**0.5, -2 / 5**0.5, 0])))
    assert z("great love") > z("great") > 0 > z("terrible")
    assert z("plain words") == pytest.approx(0.0)
    assert list(z.many(["great", "terrible"])) == pytest.approx([z("great"), z("terrible")])


def rate(review: str | None, cfg: ProfileSettings, first: str = "purchases"
         ) -> tuple[Profile, Profile]:
    """(profile after buying (or clicking) the boots, after then rating the poles 4★ with
    ``review``)."""
    p = Profile()
    update_profile(p, {"item_id": "A", "ts": TS, "kind": first}, BOOTS, cfg)
    before = Profile.from_dict(p.to_dict())
    ev = {"item_id": "B", "ts": TS + 60, "kind": "ratings", "rating": 4.0}
    if review is not None:
        ev["review"] = review
    update_profile(p, ev, POLES, cfg)
    return before, p


def test_a_negative_review_lowers_interest_in_the_items_terms() -> None:
    cfg = ProfileSettings()  # review_sentiment 'vader' by default
    before, liked = rate("Great poles, I love them", cfg)
    assert liked.counts["hiking"] > before.counts["hiking"]  # +2 (4★ · 0.5) · 1
    assert liked.counts["poles"] > 0
    before, hated = rate("Terrible poles, they broke on day one. Awful, I hate them.", cfg)
    # the purchase gave hiking 3; the 4★ rating's weight 2 now comes off instead: 3 − 2
    assert before.counts["hiking"] == 3.0 and hated.counts["hiking"] == pytest.approx(1.0)
    assert hated.counts["boots"] == 3.0 and hated.length == pytest.approx(4.0)
    assert "poles" not in hated.counts  # no new interest from a negative review
    assert "B" in hated.items  # still seen: not recommended again
    # the same review with sentiment switched off counts as positive, as before
    _, off = rate("Terrible poles, they broke on day one. Awful, I hate them.",
                  ProfileSettings(review_sentiment="off"))
    assert off.counts["hiking"] > before.counts["hiking"]


def test_negative_contribution_is_floored_and_the_term_leaves_the_profile() -> None:
    before, after = rate("Awful. I hate these, terrible quality.", ProfileSettings(),
                         first="clicks")
    # the click gave hiking 1 and boots 1 (|s| = 2); the 4★ negative rating takes 2 off
    # hiking (floored at 0, so it leaves) and nothing off boots
    assert before.counts == {"hiking": 1.0, "boots": 1.0}
    assert after.counts == {"boots": 1.0} and after.length == pytest.approx(1.0)


def test_negative_review_threshold_and_missing_text() -> None:
    cfg = ProfileSettings()
    assert negative_review("This is a terrible, awful magazine.", cfg)
    assert not negative_review("Wonderful, I recommend it.", cfg)
    assert not negative_review(None, cfg) and not negative_review("", cfg)
    assert not negative_review("Terrible.", ProfileSettings(review_sentiment="off"))
