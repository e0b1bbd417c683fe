"""Pseudonyms, sealed ids, key loading and the index side of forgetting a user."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recstream.core import index
from recstream.core.privacy import (
    SEALED,
    MissingKey,
    apply_forget,
    event_pseudonym,
    forget_updates,
    load_key,
    pseudonym,
    pseudonymise_event,
    raw_ids,
    seal,
    unseal,
)
from recstream.core.process import MemoryPipeline, apply_index_update
from recstream.core.tfidf import Profile
from recstream.settings import (
    PrivacySettings,
    ProfileSettings,
    RecommendSettings,
    Settings,
    WorkerSettings,
)

KEY = b"unit-test-key-0123456789"
TS = 1_700_000_000.0
ITEMS = [{"item_id": "A", "title": "hiking boots"}, {"item_id": "C", "title": "camping tent"},
         {"item_id": "D", "title": "gas cooker"}, {"item_id": "E", "title": "chess board"}]
EVENTS = [("u1", "A"), ("u2", "C"), ("u3", "C"), ("u3", "D"), ("u4", "E")]


def profile_cfg() -> ProfileSettings:
    return ProfileSettings(decay_half_life_s=0.0)


def rec_cfg() -> RecommendSettings:
    return RecommendSettings(postings_per_term=200)


def test_pseudonym_is_the_truncated_hmac_of_the_labelled_id() -> None:
    want = hmac.new(KEY, b"user\x00alice", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(KEY, "alice") == want
    assert pseudonym(KEY, "alice") == pseudonym(KEY, "alice")  # stable: joins work


def test_pseudonym_depends_on_key_and_label() -> None:
    assert pseudonym(KEY, "alice") != pseudonym(b"another-key-0123456789", "alice")
    assert pseudonym(KEY, "42") != event_pseudonym(KEY, "42")


@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=50, unique=True))
def test_distinct_ids_get_distinct_pseudonyms_without_the_id(ids: list[str]) -> None:
    out = [pseudonym(KEY, u) for u in ids]
    assert len(set(out)) == len(ids)
    assert all(len(p) == 32 and int(p, 16) >= 0 for p in out)


def test_seal_round_trips_and_hides_the_ids() -> None:
    ids = {"user_id": "alice-raw-7731", "event_id": "ml:alice-raw-7731:50:1:ratings"}
    a, b = seal(KEY, ids), seal(KEY, ids)
    assert unseal(KEY, a) == ids and unseal(KEY, b) == ids
    assert a != b  # fresh nonce: equal ids do not give linkable tokens
    assert "alice" not in a


def test_unseal_rejects_another_key_and_tampering() -> None:
    token = seal(KEY, {"user_id": "u"})
    with pytest.raises(ValueError, match="privacy key"):
        unseal(b"another-key-0123456789", token)
    flipped = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        unseal(KEY, flipped)


def test_pseudonymise_event_keeps_the_rest_and_seals_the_raw_ids() -> None:
    ev = {"event_id": "e-1", "user_id": "bob", "item_id": "i9", "ts": TS, "kind": "clicks"}
    out = pseudonymise_event(KEY, ev)
    assert out["user_id"] == pseudonym(KEY, "bob")
    assert out["event_id"] == event_pseudonym(KEY, "e-1")
    assert {k: out[k] for k in ("item_id", "ts", "kind")} == {"item_id": "i9", "ts": TS,
                                                            "kind": "clicks"}
    assert "bob" not in str({k: v for k, v in out.items() if k != SEALED})
    assert raw_ids(KEY, out) == ("bob", "e-1")
    assert ev["user_id"] == "bob"  # the input is not mutated


def test_load_key_from_secret_or_file(tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text("file-key-0123456789abcdef\n")
    assert load_key("secret-0123456789abc", f) == b"secret-0123456789abc"  # secret wins
    assert load_key(None, f) == b"file-key-0123456789abcdef"
    with pytest.raises(MissingKey, match="no privacy key"):
        load_key(None, None)
    with pytest.raises(MissingKey, match="shorter than 16"):
        load_key("short", None)
    with pytest.raises(MissingKey, match="cannot read"):
        load_key(None, tmp_path / "absent")


def test_settings_keep_secrets_out_of_repr_and_bind_loopback() -> None:
    s = Settings(privacy=PrivacySettings(key="secret-0123456789abc"),
                 worker=WorkerSettings(admin_token="tok-123"))
    assert "secret-0123456789abc" not in repr(s) and "tok-123" not in repr(s)
    assert Settings().worker.web_host == "127.0.0.1"


def _world(events: list[tuple[str, str]]) -> MemoryPipeline:
    pipe = MemoryPipeline(profile_cfg(), rec_cfg())
    pipe.add_items(ITEMS)
    for i, (user, item) in enumerate(events):
        pipe.ingest({"event_id": str(i), "user_id": user, "item_id": item, "ts": TS,
                     "kind": "clicks"})
    return pipe


def test_forgetting_a_user_leaves_the_index_of_a_world_without_them() -> None:
    """u3 (camping tent, gas cooker) is forgotten: every term entry and N equal those of
    the same events without u3's, and u3 appears in no posting."""
    world = _world(EVENTS)
    u3: Profile = world.profiles["u3"]
    removed = {"postings": 0, "term_df": 0, "user_count": 0}
    for key, upd in forget_updates("u3", list(u3.counts), existed=True):
        updated, counts = apply_forget(world.view.get_entry, key, upd)
        for k, entry in updated:
            world.view.set_entry(k, entry)
        for name, n in counts.items():
            removed[name] += n
    without = _world([e for e in EVENTS if e[0] != "u3"])
    terms = {k: v for k, v in world.view.entries.items() if not k.startswith("\x00")}
    want = {k: v for k, v in without.view.entries.items() if not k.startswith("\x00")}
    assert terms == want
    assert world.view.entries[index.USERS_KEY] == without.view.entries[index.USERS_KEY]
    assert all("u3" not in e["p"] for e in terms.values())
    assert removed == {"postings": 4, "term_df": 4, "user_count": 1}  # 4 terms by hand


def test_forget_of_an_unknown_user_changes_nothing() -> None:
    world = _world(EVENTS)
    before = dict(world.view.entries)
    assert forget_updates("nobody", [], existed=False) == []
    updated, counts = apply_forget(world.view.get_entry, "camping", {"u": "nobody"})
    assert counts["postings"] == 0
    for k, entry in updated:  # df drops only for a user who had the term: callers send
        assert k == "camping" and entry is not None  # only their own profile's terms
    assert world.view.entries == before


def test_forget_updates_feed_the_normal_index_path_for_terms() -> None:
    # the term updates are ordinary "drop" updates: apply_index_update handles them too
    world = _world(EVENTS)
    (key, upd), = forget_updates("u1", ["hiking"], existed=False)
    assert upd["drop"] is True
    (k, entry), = apply_index_update(world.view.get_entry, key, upd, 0, rec_cfg())
    assert k == "hiking" and entry is None  # u1 was its only user
