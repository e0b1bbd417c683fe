"""``recstream eval --protocol prequential --through-kafka`` against a running worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recstream.datasets import load_dataset

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
ML100K = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "ml-100k"


def test_through_kafka_scores_every_event_after_a_users_first(cluster, kafka_broker,
                                                               topic_prefix) -> None:
    cluster.start(1)
    n = 300
    users = {x.user_id for x in load_dataset(ML100K, limit=n).interactions}
    proc = subprocess.run(
        [sys.executable, "-m", "recstream", "eval", "--dataset", str(ML100K), "--protocol",
         "prequential", "--through-kafka", "--max-events", str(n), "--json", "-q",
         "--bootstrap-server", kafka_broker],
        capture_output=True, text=True, timeout=150,
        env={**os.environ, "RECSTREAM_TOPICS__PREFIX": topic_prefix})
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["protocol"] == "prequential" and doc["k"] == 10 and doc["through_kafka"]
    result = doc["results"]["default"]
    # every event but each user's first is judged by the record of the user's previous event
    assert result["events"] == n - len(users)
    assert 0.0 <= result["hr"] <= 1.0 and 0.0 < result["coverage"] <= 1.0
    assert result["ndcg"] <= result["hr"]


def test_through_kafka_needs_the_prequential_protocol(kafka_broker) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "recstream", "eval", "--dataset", str(ML100K), "--protocol",
         "loo", "--through-kafka", "--bootstrap-server", kafka_broker],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "prequential" in proc.stderr and "Traceback" not in proc.stderr
