"""``prequential --through-kafka``: score the records the running pipeline published.

The pipeline publishes one record per processed event, built from the user's state right after
that event. So the top-k a user had *before* event e_i is the record triggered by the user's
previous event e_{i-1}: a hit is e_i's item in that record's items. Events without such a
record (the user's first event, or a previous event that was dead-lettered or de-duplicated)
are not evaluated. Other users' state in those records is whatever the pipeline had processed
at that moment, which in a replay is close to, but not exactly, the in-process protocol's
"every earlier event" (the stages run concurrently).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recstream.eval.ranking import Averages, metrics_of_list


def score_records(stream: Sequence[tuple[str, str, str]],
                  records: Mapping[str, Mapping[str, Any]], catalogue_size: int,
                  k: int) -> dict[str, dict[str, float]]:
    """Metrics per variant. ``stream``: (event id, user id, item id) in replay order;
    ``records``: the published record by trigger event id."""
    previous: dict[str, str] = {}  # user -> their previous event id
    per_variant: dict[str, Averages] = {}
    for event_id, user, item in stream:
        before = records.get(previous.get(user, ""))
        previous[user] = event_id
        if before is None:
            continue
        ranked = [i["item_id"] for i in before["items"]][:k]
        avg = per_variant.setdefault(str(before.get("variant", "default")),
                                     Averages(catalogue_size))
        avg.add(metrics_of_list(ranked, item, k), ranked)
    return {name: {**avg.result(), "events": float(avg.n)} for name, avg in per_variant.items()}
