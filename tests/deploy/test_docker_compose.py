"""docker/: the compose file as the compose client resolves it (Debian's ``docker-compose
config``; no engine runs here), and its wiring: KRaft broker, topic init, two workers, the
GPU scorer, Prometheus scraping them, Grafana provisioned with panels on series that the
workers really expose."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from recstream.ops.lag import GroupSnapshot, Member, PartitionOffsets
from recstream.settings import Settings
from streams.metrics import PipelineMetrics
from streams.topics import topic_names

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
WORKERS = ("worker-1", "worker-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose missing: run scripts/setup.sh (installs Debian's docker-compose)"
    out = subprocess.run([exe, "-f", str(DOCKER / "compose.yaml"), "--profile", "gpu",
                          "config"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's volumes (short "src:dst[:mode]" or long syntax)."""
    out = {}
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            src, dst = v.split(":")[:2]
        else:
            src, dst = v.get("source", ""), v["target"]
        out[dst] = src
    return out


def test_services(compose) -> None:
    assert set(compose["services"]) == {"kafka", "kafka-init", *WORKERS, "scorer",
                                        "prometheus", "grafana"}


def test_kafka_is_the_official_image_in_kraft_mode(compose) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    e = env(kafka)
    assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert e["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{e['KAFKA_NODE_ID']}@kafka:9093"
    assert not any("ZOOKEEPER" in k for k in e)
    listeners = dict(x.split("://") for x in e["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert listeners["INTERNAL"] == "kafka:19092"
    assert "healthcheck" in kafka


def test_topic_init_runs_before_workers_with_the_pipeline_topic_list(compose) -> None:
    s = compose["services"]
    init = s["kafka-init"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    script = "\n".join(init["command"])
    assert "ensure_topics(" in script and "topic_names(s).all()" in script
    # the list it creates is the pipeline's own (streams/topics.py), with these settings:
    settings = Settings(bootstrap=env(init)["RECSTREAM_BOOTSTRAP"],
                        topics={"partitions": int(env(init)["RECSTREAM_TOPICS__PARTITIONS"])})
    names = {n for n, _, _ in topic_names(settings).all()}
    assert {"clicks", "ratings", "items", "recommendations", "recstream-events"} <= names
    for w in (*WORKERS, "scorer"):
        assert s[w]["depends_on"]["kafka-init"]["condition"] == \
            "service_completed_successfully"


def test_workers_share_one_group_and_route_to_each_other(compose) -> None:
    s = compose["services"]
    bootstrap = env(s["kafka"])["KAFKA_ADVERTISED_LISTENERS"].split(",")[0].split("://")[1]
    volumes = set()
    for name in WORKERS:
        w = s[name]
        e = env(w)
        assert w["build"]["dockerfile"] == "docker/Dockerfile.worker"
        assert e["RECSTREAM_BOOTSTRAP"] == bootstrap
        assert e["RECSTREAM_APP_ID"] == "recstream"
        assert int(e["RECSTREAM_WORKER__STANDBY_REPLICAS"]) >= 1
        # Faust table routing uses WEB_HOST as this worker's URL: it must resolve
        assert e["RECSTREAM_WORKER__WEB_HOST"] == w["hostname"] == name
        volumes.add(mounts(w)["/data"])
        assert any((p["target"] if isinstance(p, dict) else int(str(p).split(":")[-1]))
                   == 6066 for p in w["ports"])
    assert len(volumes) == len(WORKERS), "each worker needs its own RocksDB volume"


def test_scorer_reserves_a_gpu_and_builds_on_cuda(compose) -> None:
    scorer = compose["services"]["scorer"]
    (device,) = scorer["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert device["count"] == 1
    dockerfile = (REPO / scorer["build"]["dockerfile"]).read_text()
    assert re.search(r"^FROM nvidia/cuda:\S+", dockerfile, re.M)
    assert 'CMD ["scorer"]' in dockerfile and "EXPOSE 6070" in dockerfile
    assert env(scorer)["RECSTREAM_SCORER__WEB_PORT"] == "6070"


@pytest.mark.parametrize("dockerfile", ["Dockerfile.worker", "Dockerfile.scorer"])
def test_dockerfiles_copy_what_exists(dockerfile: str) -> None:
    text = (DOCKER / dockerfile).read_text()
    for src in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / src).exists(), src
    assert re.search(r"^USER (?!root)", text, re.M), "images must not run as root"
    assert (DOCKER / f"{dockerfile}.dockerignore").exists()
    if dockerfile == "Dockerfile.worker":
        assert 'CMD ["worker"' in text and "EXPOSE 6066" in text


def test_prometheus_scrapes_every_worker_and_the_scorer(compose) -> None:
    prom = compose["services"]["prometheus"]
    cfg = yaml.safe_load(Path(mounts(prom)["/etc/prometheus/prometheus.yml"]).read_text())
    targets = {t for job in cfg["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]}
    assert {f"{w}:6066" for w in WORKERS} <= targets
    assert "scorer:6070" in targets
    assert all(job.get("metrics_path", "/metrics") == "/metrics"
               for job in cfg["scrape_configs"])


def exposed_metric_names() -> set[str]:
    """Every series name a worker's /metrics can expose (lag included)."""
    m = PipelineMetrics("recstream", "kafka:19092")
    m.event("clean")
    m.dead_letter("malformed_json")
    m.published({"variant": "default", "degraded": True, "published_ts": 10.0},
                {"received_ts": 9.0, "produced_ts": 8.0})
    member = Member("c", "h", "faust", frozenset({("ratings", 0)}))
    snap = GroupSnapshot("recstream", "Stable", 1.0, (member,),
                         (PartitionOffsets("ratings", 0, 5, 10, 0, 0.5),))
    m.tracker.observe(snap)
    m.set_lag([m.tracker.observe(snap)], 12.0)
    m.feedback({"variant": "default", "window_start": 0.0, "impressions": 2, "clicked": 1,
                "hits": 1, "precision": 0.05})
    body, _ = m.exposition()
    return {line.split("{")[0].split(" ")[0] for line in body.decode().splitlines()
            if line and not line.startswith("#")}


def test_grafana_is_provisioned_with_panels_on_exposed_series(compose) -> None:
    graf = compose["services"]["grafana"]
    vols = {dst: Path(src) for dst, src in mounts(graf).items()}
    prov = vols["/etc/grafana/provisioning"]
    (ds,) = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((prov / "dashboards" / "recstream.yml").read_text())[
        "providers"]
    dash_dir = vols[provider["options"]["path"]]
    dash = json.loads((dash_dir / "recstream.json").read_text())
    titles = {p["title"] for p in dash["panels"]}
    assert {"Lag per partition", "Throughput", "Event → recommendation latency",
            "Degraded share", "CTR / precision@k per variant"} <= titles
    exposed = exposed_metric_names()
    used = set()
    for p in dash["panels"]:
        for t in p.get("targets", []):
            assert t["datasource"]["uid"] == ds["uid"]
            used |= set(re.findall(r"\b(?:kafka|recstream)_[a-z_]+\b", t["expr"]))
    assert used and used <= exposed, f"panels query series no worker exposes: {used - exposed}"
    assert {"kafka_consumergroup_group_lag", "recstream_event_to_recommendation_seconds_bucket",
            "recstream_recommendations_degraded_total"} <= used
