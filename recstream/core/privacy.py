"""Pseudonymous user and event ids, sealed raw ids, and what forgetting a user touches.

Everything recstream *stores* (tables, changelogs, index postings, sketches, metrics, logs)
names a user by ``pseudonym(key, user_id)``: HMAC-SHA256 under the deployment's secret
``privacy.key``, hex, truncated to 128 bits. Event ids are pseudonymised the same way (under
a different label) because producers often build them from user ids
(``source:user:item:ts:kind``). Without the key a pseudonym cannot be linked back to the id
or recomputed from a guessed id; with it, the same id always gives the same pseudonym, so
joins, de-duplication and routing work on pseudonyms alone.

The ``recommendations`` contract keeps the ids the producer sent, so the raw ids travel from
the clean stage to the rank stage *sealed* (AES-256-GCM under a key derived from
``privacy.key``, random nonce): internal topics and tables hold only ciphertext that does
not repeat across records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from recstream.core import index

PSEUDONYM_HEX = 32  # 128 bits: collisions need ~2^64 ids
MIN_KEY_BYTES = 16
_NONCE = 12


class MissingKey(Exception):
    """No usable privacy key was configured."""


def pseudonym(key: bytes, user_id: str, label: str = "user") -> str:
    """The stored form of ``user_id``: hex HMAC-SHA256(key, label NUL id), 32 characters.

    ``label`` separates id spaces (``"user"``, ``"event"``) so a user id and an event id
    that happen to be equal strings do not share a pseudonym.
    """
    mac = hmac.new(key, label.encode() + b"\x00" + user_id.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_HEX]


def event_pseudonym(key: bytes, event_id: str) -> str:
    return pseudonym(key, event_id, "event")


def _seal_key(key: bytes) -> bytes:
    return hmac.new(key, b"recstream seal v1", hashlib.sha256).digest()


def seal(key: bytes, data: Mapping[str, Any]) -> str:
    """``data`` as base64(nonce ‖ AES-256-GCM ciphertext ‖ tag); see :func:`unseal`."""
    nonce = os.urandom(_NONCE)
    ct = AESGCM(_seal_key(key)).encrypt(nonce, orjson.dumps(dict(data)), b"recstream")
    return base64.b64encode(nonce + ct).decode()


def unseal(key: bytes, token: str) -> dict[str, Any]:
    """The mapping :func:`seal` sealed; raises ValueError if it was sealed under another key
    or altered."""
    try:
        raw = base64.b64decode(token, validate=True)
        plain = AESGCM(_seal_key(key)).decrypt(raw[:_NONCE], raw[_NONCE:], b"recstream")
    except Exception as e:  # InvalidTag, binascii.Error, short input
        raise ValueError("sealed ids do not open with this privacy key") from e
    data = orjson.loads(plain)
    if not isinstance(data, dict):
        raise ValueError("sealed ids are not a mapping")
    return data


def load_key(secret: str | None, key_file: Path | None) -> bytes:
    """The key bytes from a configured secret or key file (first non-empty line).

    Raises :class:`MissingKey` when neither is set or the key is shorter than 16 bytes.
    """
    value = secret or ""
    if not value and key_file is not None:
        try:
            value = key_file.read_text().strip()
        except OSError as e:
            raise MissingKey(f"cannot read privacy key file {key_file}: {e.strerror}") from None
    if not value:
        raise MissingKey("no privacy key configured")
    if len(value.encode()) < MIN_KEY_BYTES:
        raise MissingKey(f"the privacy key is shorter than {MIN_KEY_BYTES} bytes")
    return value.encode()


def new_key() -> str:
    """A fresh random key (64 hex characters, 256 bits) for a key file."""
    return os.urandom(32).hex()


def forget_updates(user: str, terms: list[str], existed: bool
                   ) -> list[tuple[str, dict[str, Any]]]:
    """Index updates that erase pseudonymous ``user`` from the term index: their posting
    and document-frequency contribution for each of ``terms`` (the terms of their profile),
    and one user fewer in N if they had a profile. Keyed by index key, like
    :func:`recstream.core.process.index_updates`; every update carries ``forget``."""
    out: list[tuple[str, dict[str, Any]]] = [
        (t, {"u": user, "drop": True, "forget": True}) for t in terms]
    if existed:
        out.append((index.USERS_KEY, {"u": user, "forget": True}))
    return out


FORGET_COUNTS = ("postings", "term_df", "user_count")


def apply_forget(get: Callable[[str], Mapping[str, Any] | None], key: str,
                 upd: Mapping[str, Any]
                 ) -> tuple[list[tuple[str, dict[str, Any] | None]], dict[str, int]]:
    """The index stage's side of :func:`forget_updates`: new entries for ``key`` (None
    deletes) and what was removed (``postings``: the user's posting was there; ``term_df``:
    their share of a term's document frequency; ``user_count``: their share of N)."""
    entry = get(key)
    counts = dict.fromkeys(FORGET_COUNTS, 0)
    if key == index.USERS_KEY:
        n = int(entry["df"]) - 1 if entry else 0
        counts["user_count"] = int(entry is not None)
        return [(key, {"df": n} if n > 0 else None)], counts
    if entry:
        counts["term_df"] = 1
        counts["postings"] = int(upd["u"] in entry.get("p", {}))
    return [(key, index.remove_posting(entry, upd["u"]))], counts


SEALED = "sealed_ids"  # the internal records' field holding the sealed raw ids


def pseudonymise_event(key: bytes, event: Mapping[str, Any]) -> dict[str, Any]:
    """A validated event as the pipeline keeps it: ``user_id`` and ``event_id`` replaced by
    their pseudonyms, the raw pair sealed in ``sealed_ids`` for the rank stage."""
    return {**event, "user_id": pseudonym(key, str(event["user_id"])),
            "event_id": event_pseudonym(key, str(event["event_id"])),
            SEALED: seal(key, {"user_id": event["user_id"], "event_id": event["event_id"]})}


def raw_ids(key: bytes, record: Mapping[str, Any]) -> tuple[str, str]:
    """(user id, event id) as the producer sent them, from an internal record's
    ``sealed_ids``; a record without them (an older worker's) keeps its own ids."""
    token = record.get(SEALED)
    if not token:
        return str(record["user_id"]), str(record["event_id"])
    ids = unseal(key, token)
    return str(ids["user_id"]), str(ids["event_id"])
